"""DATA forms: each one loads real files written by other tools, shaped for the model's input, and
every bad input ends in one clear DataError line."""

from __future__ import annotations

import csv
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from builder.training.data import DataError, load_dataset, parse_data, split

MLP_64 = ["N", 64]
CONV_1x8x8 = ["N", 1, 8, 8]


def load(text, shape):
    return load_dataset(parse_data(text), shape)


def one_line_error(text, shape=MLP_64):
    with pytest.raises(DataError) as info:
        load(text, shape)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- digits (scikit-learn's bundled set) ------------------------------------------------------


def test_digits_for_a_conv_net_are_1x8x8_images_in_unit_range():
    ds = load("digits", CONV_1x8x8)
    x, y = ds.tensors
    assert x.shape == (1797, 1, 8, 8) and y.dtype == torch.int64
    assert ds.task == "classification" and ds.num_classes == 10
    assert sorted(y.unique().tolist()) == list(range(10))
    assert x.min() == 0.0 and x.max() == 1.0


def test_digits_for_an_mlp_are_flat_and_keep_the_same_pixels():
    flat = load("digits", MLP_64).tensors[0]
    image = load("digits", CONV_1x8x8).tensors[0]
    assert flat.shape == (1797, 64)
    assert torch.equal(flat, image.reshape(1797, 64))


def test_digits_upscale_and_gain_channels_for_a_bigger_image_input():
    x = load("digits", ["N", 3, 32, 32]).tensors[0]
    assert x.shape == (1797, 3, 32, 32)
    assert torch.equal(x[:, 0], x[:, 2])


def test_digits_that_cannot_fit_name_both_shapes():
    message = one_line_error("digits", ["N", 100])
    assert "(N, 1, 8, 8)" in message and "(N, 100)" in message


# --- synthetic ---------------------------------------------------------------------------------


def test_synthetic_classification_is_seeded_and_sized():
    text = "synthetic:shape=3,32,32,classes=10,n=50,seed=3"
    a, b = load(text, ["N", 3, 32, 32]), load(text, ["N", 3, 32, 32])
    assert a.tensors[0].shape == (50, 3, 32, 32) and a.num_classes <= 10
    assert a.tensors[1].dtype == torch.int64
    assert torch.equal(a.tensors[0], b.tensors[0])
    other = load("synthetic:shape=3,32,32,classes=10,n=50,seed=4", ["N", 3, 32, 32])
    assert not torch.equal(a.tensors[0], other.tensors[0])


def test_synthetic_regression_gives_float_targets():
    ds = load("synthetic:shape=8,targets=2,n=500", ["N", 8])
    x, y = ds.tensors
    assert ds.task == "regression" and x.shape == (500, 8)
    assert y.shape == (500, 2) and y.dtype == torch.float32


def test_synthetic_without_shape_takes_the_model_input():
    assert load("synthetic:classes=3,n=20", ["N", 1, 4, 4]).tensors[0].shape == (20, 1, 4, 4)
    assert "give shape=" in one_line_error("synthetic:n=5", ["N", "L"])


@pytest.mark.parametrize("text, words", [
    ("synthetic:shape=8,colour=red", "unknown key 'colour'"),
    ("synthetic:shape=8,classes=2,targets=1", "not both"),
    ("synthetic:shape=8,n=many", "n='many'"),
    ("synthetic:shape=8,n=0", "n=0 must be >= 1"),
    ("synthetic:shape=8,seed=-1", "seed=-1 must be >= 0"),
    ("synthetic:shape=3,,4", "expected key=value"),
    ("csv:", "csv needs a path"),
    ("digits:fast", "no options"),
    ("mnist", "unknown form 'mnist'"),
    ("python:nofactory", "python:MODULE:FACTORY"),
    ("csv:x.csv:task=guess", "task must be"),
])
def test_bad_specs_are_one_line_errors(text, words):
    with pytest.raises(DataError, match=words):
        parse_data(text)


# --- npz ---------------------------------------------------------------------------------------


def test_npz_written_by_numpy_savez(tmp_path):
    path = tmp_path / "data.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.random((30, 64)), y=rng.integers(0, 4, 30))
    ds = load(f"npz:{path}", CONV_1x8x8)
    assert ds.tensors[0].shape == (30, 1, 8, 8) and ds.tensors[0].dtype == torch.float32
    assert ds.task == "classification"
    np.savez(path, x=rng.random((30, 5)), y=rng.random(30))
    assert load(f"npz:{path}", ["N", 5]).task == "regression"


def test_npz_without_x_or_missing_says_so(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, inputs=np.zeros((3, 2)), y=np.zeros(3))
    assert "no array 'x'" in one_line_error(f"npz:{path}")
    assert "no such file" in one_line_error(f"npz:{tmp_path / 'gone.npz'}")
    (tmp_path / "junk.npz").write_text("not a zip")
    assert "not a readable npz" in one_line_error(f"npz:{tmp_path / 'junk.npz'}")


# --- csv ---------------------------------------------------------------------------------------


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_csv_from_the_csv_module_with_a_header_and_default_last_target(tmp_path):
    path = tmp_path / "iris.csv"
    write_csv(path, [["a", "b", "c", "label"], [1, 2, 3, 5], [4, 5, 6, 7], [7, 8, 9, 5]])
    ds = load(f"csv:{path}", ["N", 3])
    x, y = ds.tensors
    assert x.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert y.tolist() == [0, 1, 0] and ds.num_classes == 2  # labels 5/7 become classes 0/1


def test_csv_from_numpy_savetxt_with_a_named_target_and_regression(tmp_path):
    path = tmp_path / "houses.csv"
    values = np.array([[0.5, 120.0, 1.0], [0.25, 80.0, 2.0], [0.75, 200.0, 3.0]])
    np.savetxt(path, values, delimiter=",", header="price,area,rooms")
    ds = load(f"csv:{path}:target=price", ["N", 2])
    assert ds.task == "regression"
    assert ds.tensors[1].squeeze(1).tolist() == [0.5, 0.25, 0.75]
    assert ds.tensors[0].tolist() == [[120.0, 1.0], [80.0, 2.0], [200.0, 3.0]]
    ds = load(f"csv:{path}:target=rooms,task=regression", ["N", 2])
    assert ds.tensors[1].dtype == torch.float32


def test_csv_from_numpy_savetxt_defaults_space_separated(tmp_path):
    path = tmp_path / "plain.txt"
    np.savetxt(path, np.array([[1.0, 2.0, 0], [3.0, 4.0, 1]]), header="u v label")
    ds = load(f"csv:{path}", ["N", 2])
    assert ds.tensors[0].tolist() == [[1.0, 2.0], [3.0, 4.0]] and ds.tensors[1].tolist() == [0, 1]


def test_csv_errors_name_the_column_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    write_csv(path, [["a", "b"], [1, 2], ["x", 3]])
    message = one_line_error(f"csv:{path}")
    assert "bad.csv:3" in message and "column 'a'" in message
    write_csv(path, [["a", "b"], [1, 2], [3]])
    assert "bad.csv:3: row has 1 columns, expected 2" in one_line_error(f"csv:{path}")
    write_csv(path, [["a", "b"], [1, 2]])
    assert "no column 'z'" in one_line_error(f"csv:{path}:target=z")


# --- folder of images --------------------------------------------------------------------------


def make_folder(root):
    colours = {"cat": (200, 30, 30), "dog": (30, 30, 200)}
    for i, (name, colour) in enumerate(colours.items()):
        (root / name).mkdir(parents=True)
        Image.new("RGB", (20, 10), colour).save(root / name / "a.png")
        Image.new("RGBA", (5, 5), (*colour, 128)).save(root / name / "b.png")
        Image.new("L", (40, 40), 50 + 100 * i).save(root / name / "c.png")
    (root / "cat" / "notes.txt").write_text("not an image")


def test_folder_of_mixed_png_modes_and_sizes_fits_the_input(tmp_path):
    make_folder(tmp_path)
    ds = load(f"folder:{tmp_path}", ["N", 3, 16, 16])
    x, y = ds.tensors
    assert x.shape == (6, 3, 16, 16) and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x[0, 0].mean() > x[0, 2].mean()  # the cat's red survives
    grey = load(f"folder:{tmp_path}", ["N", 1, 8, 8]).tensors[0]
    assert grey.shape == (6, 1, 8, 8)
    assert load(f"folder:{tmp_path}", ["N", 64]).tensors[0].shape == (6, 64)


def test_empty_or_missing_folders_say_where(tmp_path):
    assert "folder is empty" in one_line_error(f"folder:{tmp_path}", ["N", 1, 8, 8])
    (tmp_path / "cats").mkdir()
    assert "cats: class folder has no images" in one_line_error(f"folder:{tmp_path}",
                                                               ["N", 1, 8, 8])
    assert "no such folder" in one_line_error(f"folder:{tmp_path / 'gone'}", ["N", 1, 8, 8])
    (tmp_path / "cats" / "broken.png").write_text("not a png")
    assert "broken.png: cannot read image" in one_line_error(f"folder:{tmp_path}",
                                                            ["N", 1, 8, 8])
    assert "(N, 7)" in one_line_error(f"folder:{tmp_path}", ["N", 7])


# --- python factory ----------------------------------------------------------------------------


FACTORY_SOURCE = textwrap.dedent("""
    import torch
    from torch.utils.data import Dataset

    class Squares(Dataset):
        def __len__(self):
            return 12
        def __getitem__(self, i):
            return torch.full((64,), float(i)), i % 3

    def make():
        return Squares()

    def broken():
        raise ValueError("no data today")

    def not_a_dataset():
        return [1, 2, 3]
""")


def test_python_factory_in_a_file_is_shaped_for_the_model(tmp_path):
    path = tmp_path / "my_data.py"
    path.write_text(FACTORY_SOURCE)
    ds = load(f"python:{path}:make", CONV_1x8x8)
    x, y = ds[5]
    assert len(ds) == 12 and x.shape == (1, 8, 8) and x[0, 0, 0] == 5.0
    assert y.dtype == torch.int64 and y.item() == 2 and ds.task == "classification"


def test_python_factory_importable_as_a_module(tmp_path, monkeypatch):
    (tmp_path / "user_data_mod.py").write_text(FACTORY_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert len(load("python:user_data_mod:make", MLP_64)) == 12


def test_python_factory_failures_are_one_line(tmp_path):
    path = tmp_path / "my_data.py"
    path.write_text(FACTORY_SOURCE)
    assert "broken() raised ValueError: no data today" in one_line_error(f"python:{path}:broken")
    assert "returned list, not a map-style" in one_line_error(f"python:{path}:not_a_dataset")
    assert "no callable 'missing'" in one_line_error(f"python:{path}:missing")
    assert "(N, 64)" in one_line_error(f"python:{path}:make", ["N", 10])
    (tmp_path / "syntax.py").write_text("def (:\n")
    assert "cannot import (SyntaxError" in one_line_error(f"python:{tmp_path / 'syntax.py'}:make")
    assert "cannot import" in one_line_error("python:no_such_module_xyz:make")
    (tmp_path / "data.txt").write_text("x")
    assert "not a Python file" in one_line_error(f"python:{tmp_path / 'data.txt'}:make")


# --- split -------------------------------------------------------------------------------------


def test_split_is_80_10_10_and_deterministic_for_a_seed():
    ds = load("digits", MLP_64)
    train, val, test = split(ds, seed=0)
    assert (len(train), len(val), len(test)) == (1439, 179, 179)
    assert set(train.indices).isdisjoint(val.indices) and set(val.indices).isdisjoint(test.indices)
    again = split(ds, seed=0)
    assert train.indices == again[0].indices and test.indices == again[2].indices
    assert split(ds, seed=1)[0].indices != train.indices


def test_split_rejects_bad_fractions():
    ds = load("synthetic:shape=4,classes=2,n=10", ["N", 4])
    with pytest.raises(DataError, match="summing to 1"):
        split(ds, 0, (0.5, 0.2, 0.1))
    train, val, test = split(ds, 0, (1.0, 0.0, 0.0))
    assert (len(train), len(val), len(test)) == (10, 0, 0)


def test_the_command_line_knows_every_loss_the_runner_has():
    from builder.training.config import LOSSES
    from builder.training.task import LOSS_FUNCTIONS
    from graph_schema.document import LOSSES as PROJECT_LOSSES

    assert LOSSES == tuple(LOSS_FUNCTIONS) == PROJECT_LOSSES
