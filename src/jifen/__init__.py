"""jifen — the Tongxiang New Citizen Points platform (桐乡市新市民积分)."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root when running from a checkout (policies/ lives there).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
