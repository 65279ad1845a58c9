"""The README's front matter, which a Hugging Face Space reads: it must run the Gradio that
requirements.txt pins (a Space without sdk_version takes the newest, which our Gradio adjustments
are not verified against), on the Python CI runs, with a description within the Space's limit."""
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def front_matter() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    block = text.split("---\n")[1]
    return {key.strip(): value.strip().strip('"') for key, value in (line.split(":", 1) for line in block.splitlines() if line)}


def pinned(name: str) -> Requirement:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and Requirement(line).name == name:
            return Requirement(line)
    raise AssertionError(f"{name} is not in requirements.txt")


def test_the_space_runs_the_pinned_gradio_on_our_python():
    meta = front_matter()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert pinned("gradio").specifier.contains(meta["sdk_version"]), (meta["sdk_version"], str(pinned("gradio")))
    assert meta["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert 0 < len(meta["short_description"]) <= 60
