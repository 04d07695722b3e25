"""`torchcanvas render --depth N`: blocks drawn open in place, framed, N levels deep, for a
whole network or for one block (of an example, or of an imported model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QImage

from builder.cli import main
from codegen import import_model
from graph_schema import save_project
from tests.import_models.densenet import DenseNet

ROOT = Path(__file__).resolve().parent.parent
RESNET18 = ROOT / "examples" / "resnet18.json"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def pixels(path: Path) -> tuple[int, int]:
    image = QImage(str(path))
    return image.width(), image.height()


def test_depth_draws_the_blocks_open_and_the_picture_grows(capsys, qapp, tmp_path):
    closed, opened = tmp_path / "closed.png", tmp_path / "open.png"
    assert run(capsys, "render", RESNET18, "-o", closed)[0] == 0
    code, out, err = run(capsys, "render", RESNET18, "--depth", "1", "-o", opened)
    assert (code, out, err) == (0, f"wrote {opened}\n", "")
    (closed_w, closed_h), (open_w, open_h) = pixels(closed), pixels(opened)
    # Eight blocks of seven to nine layers each, drawn one under the other.
    assert open_h > 3 * closed_h and open_w >= closed_w
    assert opened.stat().st_size > closed.stat().st_size


def test_depth_zero_is_the_collapsed_drawing(capsys, qapp, tmp_path):
    plain, zero = tmp_path / "plain.svg", tmp_path / "zero.svg"
    run(capsys, "render", RESNET18, "-o", plain)
    run(capsys, "render", RESNET18, "--depth", "0", "-o", zero)
    assert plain.read_bytes() == zero.read_bytes()


@pytest.mark.parametrize("depth", ["-1", "two", "1.5"])
def test_a_bad_depth_exits_2_with_a_message(capsys, qapp, tmp_path, depth):
    with pytest.raises(SystemExit) as exit_info:
        main(["render", str(RESNET18), "--depth", depth, "-o", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2
    assert "--depth: expected a whole number 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_one_block_of_an_imported_model_drawn_with_its_nested_blocks_open(capsys, qapp,
                                                                           tmp_path):
    project = tmp_path / "densenet.json"
    save_project(import_model(DenseNet(), (torch.ones(1, 3, 8, 8),)), project)
    closed, opened = tmp_path / "block.png", tmp_path / "block_open.png"
    assert run(capsys, "render", project, "--block", "DenseBlock", "-o", closed)[:2] == \
        (0, f"wrote {closed}\n")
    code, out, _err = run(capsys, "render", project, "--block", "DenseBlock", "--depth", "1",
                          "-o", opened)
    assert (code, out) == (0, f"wrote {opened}\n")
    assert pixels(opened)[1] > pixels(closed)[1] + 200  # three DenseLayers open
    code, out, _err = run(capsys, "render", project, "--depth", "3", "-o", tmp_path / "all.png")
    assert code == 0 and pixels(tmp_path / "all.png")[1] > pixels(opened)[1]
