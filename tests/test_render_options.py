"""`torchcanvas render --block` and `--scale`: a block's own diagram, and the PNG's density."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from builder.cli import main
from graph_schema import load_project
from graph_schema.dims import format_shape

ROOT = Path(__file__).resolve().parent.parent
RESNET50 = ROOT / "examples" / "resnet50.json"
LENET = ROOT / "examples" / "lenet.json"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_block_is_drawn_with_the_shapes_of_its_first_placement(capsys, qapp, tmp_path):
    from builder.gui.project_document import ProjectDocument, block_key

    out_file = tmp_path / "bottleneck.png"
    code, out, err = run(capsys, "render", RESNET50, "--block", "Bottleneck", "-o", out_file)
    assert (code, out, err) == (0, f"wrote {out_file}\n", "")
    assert not QImage(str(out_file)).isNull()
    # Bottleneck is placed only inside Layer1..Layer4, which the file lists after it: the
    # document (the app's block tab, and so the drawing) still gets layer1's input (256
    # channels at 56x56), and so no diagnostics.
    project = load_project(RESNET50)
    analysis = ProjectDocument(project).analysis(block_key("Bottleneck"))
    assert [format_shape(s) for s in analysis.block_inputs.values()] == ["(N, 256, 56, 56)"]
    assert analysis.diagnostics == []


def test_outer_blocks_come_first_and_the_rest_keep_their_order():
    from graph_schema.blocks import blocks_outer_first

    project = load_project(RESNET50)
    names = [b.name for b in project.blocks]
    assert names[:3] == ["Downsample", "Bottleneck", "BottleneckDownsample"]
    assert [b.name for b in blocks_outer_first(project)] == [
        "Layer1", "Layer2", "Layer3", "Layer4", "Bottleneck", "BottleneckDownsample",
        "Downsample"]
    assert [b.name for b in project.blocks] == names  # the project itself is left alone


@pytest.mark.parametrize(("args", "message"), [
    (["--block", "Nope"], "no block named 'Nope'; the project has Downsample, Bottleneck"),
    (["--scale", "0.1"], "the PNG scale must be between 0.25 and 8"),
    (["--scale", "nan"], "the PNG scale must be between 0.25 and 8"),
])
def test_a_bad_block_or_scale_exits_2_with_one_line(capsys, qapp, tmp_path, args, message):
    out_file = tmp_path / "x.png"
    code, out, err = run(capsys, "render", RESNET50, "-o", out_file, *args)
    assert code == 2 and out == ""
    assert err.startswith("torchcanvas: ") and err.count("\n") == 1 and message in err, err
    assert not out_file.exists()


def test_scale_is_for_png_only(capsys, qapp, tmp_path):
    code, _, err = run(capsys, "render", LENET, "-o", tmp_path / "x.svg", "--scale", "1")
    assert code == 2 and "--scale is for PNG pictures; SVG is drawn as vectors" in err


def test_network_and_block_together_are_refused(capsys, qapp, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["render", str(RESNET50), "-o", str(tmp_path / "x.png"), "--network", "resnet50",
              "--block", "Bottleneck"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_scale_sets_the_pixels_per_unit_and_a_fractional_one_leaves_no_unpainted_edge(
        capsys, qapp, tmp_path):
    from builder.gui.theme import theme_named

    sizes = {}
    for scale in ("2", "1", "1.5"):
        out_file = tmp_path / f"lenet-{scale}.png"
        assert run(capsys, "render", LENET, "-o", out_file, "--scale", scale)[0] == 0
        image = QImage(str(out_file))
        sizes[scale] = (image.width(), image.height())
    default = tmp_path / "lenet.png"
    run(capsys, "render", LENET, "-o", default)
    assert QImage(str(default)).size().toTuple() == sizes["2"]
    width, height = sizes["2"]
    assert sizes["1"] == (width // 2, height // 2)
    assert sizes["1.5"] == (-(-width * 3 // 4), -(-height * 3 // 4))
    image = QImage(str(tmp_path / "lenet-1.5.png"))
    background = theme_named("light").background.rgb()
    edge = {QColor(image.pixel(image.width() - 1, y)).rgb() for y in range(image.height())}
    edge |= {QColor(image.pixel(x, image.height() - 1)).rgb() for x in range(image.width())}
    assert edge == {background}
