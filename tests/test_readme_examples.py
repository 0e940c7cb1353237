"""README.md's quick start runs as written: its Python blocks in order in one namespace, and
its command lines on the shipped keypoints, from a folder holding the repository's
``examples/`` (so nothing is written into the repository). A block the test cannot run (it
needs a photo and the ``detect`` extra) is marked in the README and only compiled, with every
``smplify`` name it uses looked up. Every relative link and repository path README.md names
resolves."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import smplify
from smplify import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN = "<!-- not run by tests/test_readme_examples.py"


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def _blocks(section: str, language: str) -> list[tuple[str, bool]]:
    """(code, runnable) of each ```language block, in order; a block is not runnable when the
    last non-blank line before it is the NOT_RUN marker."""
    found = []
    for m in re.finditer(rf"^```{language}\n(.*?)\n```$", section, flags=re.S | re.M):
        before = section[:m.start()].rstrip().rsplit("\n", 1)[-1]
        found.append((m.group(1), not before.startswith(NOT_RUN)))
    return found


def _resolve(dotted: str) -> object:
    """``smplify.a.b``'s object, importing submodules as ``from smplify import a`` would."""
    obj, path = smplify, "smplify"
    for name in dotted.split(".")[1:]:
        path += f".{name}"
        try:
            obj = getattr(obj, name)
        except AttributeError:
            obj = importlib.import_module(path)
    return obj


@pytest.fixture
def in_scratch_folder(tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_quick_start_python_blocks_run_in_order(in_scratch_folder):
    blocks = _blocks(_section(README.read_text(), "Quick start"), "python")
    runnable = [code for code, run in blocks if run]
    assert len(runnable) >= 3, "the quick start lost its runnable examples"
    namespace: dict[str, object] = {}
    for code in runnable:
        exec(compile(code, str(README), "exec"), namespace)
    # What the blocks promise: a body from the photo's keypoints, a clip's stacked fields, files.
    res, seq = namespace["res"], namespace["seq"]
    assert res.vertices.shape[1] == 3 and res.summary["status"] != "evaluation_failed"
    assert seq.body_pose.shape == (len(namespace["video"]), 69)
    for name in ("body.obj", "body.npz", "clip.glb", "clip.bvh", "clip.npz", "SMPL_OPEN.pkl"):
        assert (in_scratch_folder / name).stat().st_size > 0, name


def test_blocks_not_run_compile_and_name_what_exists():
    blocks = _blocks(_section(README.read_text(), "Quick start"), "python")
    skipped = [code for code, run in blocks if not run]
    assert skipped, "no marked block: drop this test or the marker"
    for code in skipped:
        compile(code, str(README), "exec")
        imported = re.findall(r"from smplify import (\w+)", code)
        for name in imported:
            _resolve(f"smplify.{name}")
        for dotted in re.findall(r"\b((?:smplify|" + "|".join(imported or ["smplify"])
                                 + r")(?:\.\w+)+)\(", code):
            head = dotted.split(".", 1)[0]
            _resolve(dotted if head == "smplify" else f"smplify.{dotted}")


def test_quick_start_command_lines_run(in_scratch_folder):
    """The command lines that need no input of the user's: the shipped keypoints, pose, info."""
    block = _blocks(_section(README.read_text(), "Quick start"), "sh")[0][0]
    lines = [line.split("#", 1)[0].split() for line in block.splitlines()]
    commands = [args for args in lines if args and args[0] == "smplify"]
    chosen = [args for args in commands
              if args[1] in ("pose", "info") or any(a.startswith("examples/") for a in args)]
    assert len(chosen) >= 3, [shlex.join(c) for c in commands]
    for args in chosen:
        assert cli.main(args[1:]) == 0, shlex.join(args)
    assert list((in_scratch_folder / "out").glob("*.obj"))
    assert (in_scratch_folder / "body.obj").is_file()


def test_every_relative_link_and_path_of_the_readme_resolves():
    """Markdown links (inline and reference-style) and the repository paths the text names
    (``docs/...``, ``benchmarks/...``, ...; not the user's files of the examples)."""
    text = README.read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    links += re.findall(r"^\[[^\]]+\]:\s+([^\s#]+)", text, flags=re.M)
    named = re.findall(r"(?<![\w./~-])((?:docs|benchmarks|tests|tools|examples|packaging|cpp|python"
                       r"|smplify)/[\w./-]*[\w/])", text)
    relative = [t for t in links + named if not re.match(r"[a-z]+:", t)]
    assert len(relative) > 20, relative
    missing = sorted({t for t in relative if not (ROOT / t).exists()})
    assert not missing, missing
