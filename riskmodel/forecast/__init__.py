"""Stage 3, forecast: posterior + scenario -> export paths (path x destination x month)."""

from riskmodel.forecast.paths import (
    FORECAST_QUANTILES,
    forecast_paths,
    forecast_table,
    write_forecast,
)

__all__ = ["FORECAST_QUANTILES", "forecast_paths", "forecast_table", "write_forecast"]
