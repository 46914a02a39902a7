"""Options shared by several subcommands (data selection, sampler settings)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from riskmodel.config.limits import check_setting
from riskmodel.exceptions import RiskModelError
from riskmodel.months import MONTH_RE


def month_arg(text: str) -> str:
    """Argparse type for ``YYYY-MM``."""
    if not MONTH_RE.match(text):
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}")
    return text


def bounded_int(name: str) -> Callable[[str], int]:
    """Argparse type for the whole-number setting ``name`` within its :data:`LIMITS`."""

    def parse(text: str) -> int:
        try:
            return check_setting(name, int(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r:.40}") from None
        except RiskModelError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def add_data_arguments(parser: argparse.ArgumentParser, *, as_of: bool = True) -> None:
    """Add ``--data``, ``--events``, ``--licences``, ``--product`` (and ``--as-of``)."""
    g = parser.add_argument_group("data (default: the bundled magnet series and events)")
    g.add_argument(
        "--data", nargs="+", metavar="PATH", help="customs CSV file(s) in the input format"
    )
    g.add_argument("--events", metavar="PATH", help="policy events CSV (dates define regimes)")
    g.add_argument("--licences", metavar="PATH", help="licence counts CSV (approved of applied)")
    g.add_argument("--product", help="product to model when the data hold several")
    if as_of:
        g.add_argument(
            "--as-of",
            type=month_arg,
            metavar="YYYY-MM",
            help="point-in-time run: only customs months before it and events up to its end",
        )


def add_sampler_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the NUTS settings."""
    from riskmodel.sampling import BACKENDS, SamplerConfig

    d = SamplerConfig()
    g = parser.add_argument_group("sampler")
    g.add_argument(
        "--priors", metavar="PATH", help="priors YAML (default: priors/export_model.yaml)"
    )
    g.add_argument(
        "--backend",
        choices=BACKENDS,
        help="NUTS backend (default: nutpie when installed, else pymc)",
    )
    g.add_argument(
        "--draws", type=bounded_int("draws"), default=d.draws, help=f"draws per chain ({d.draws})"
    )
    g.add_argument(
        "--tune", type=bounded_int("tune"), default=d.tune, help=f"warm-up per chain ({d.tune})"
    )
    g.add_argument(
        "--chains", type=bounded_int("chains"), default=d.chains, help=f"chains ({d.chains})"
    )
    g.add_argument(
        "--target-accept", type=float, default=d.target_accept, help="NUTS target acceptance"
    )
    g.add_argument(
        "--seed",
        type=bounded_int("seed"),
        default=0,
        help="the run's seed (0); each stage derives its own from it, as in 'riskmodel report'",
    )


def sampler_from_args(args: argparse.Namespace, *, progress: bool = False) -> Any:
    """Build a :class:`~riskmodel.sampling.SamplerConfig` from parsed arguments.

    Its seed is the run's seed (``--seed``); :func:`riskmodel.pipeline.fit` given
    ``seed=args.seed`` derives the sampler's own seed from it.
    """
    from riskmodel.sampling import SamplerConfig, default_backend

    if not 0.5 <= args.target_accept < 1:
        raise RiskModelError(f"--target-accept must be in [0.5, 1), got {args.target_accept}")
    return SamplerConfig(
        backend=args.backend or default_backend(),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        target_accept=args.target_accept,
        seed=args.seed,
        progress=progress,
    )


def inputs_from_args(args: argparse.Namespace) -> Any:
    """Load model inputs as the data options say."""
    from riskmodel.pipeline import load_inputs

    return load_inputs(
        args.data,
        args.events,
        args.licences,
        product=args.product,
        as_of=getattr(args, "as_of", None),
    )


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON atomically."""
    from riskmodel.atomic import atomic_write

    atomic_write(path, lambda p: Path(p).write_text(json.dumps(payload, indent=2) + "\n"))
