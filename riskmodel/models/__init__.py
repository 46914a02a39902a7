"""Models: the joint PyMC model of approval and volume, and statsmodels baselines."""
