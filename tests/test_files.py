"""Project files: round trips, atomic saves, migrations, and every kind of bad file."""

import json
import os
import subprocess
import sys

import pytest

from graph_schema import ProjectError, load_project, save_project
from graph_schema.document import FORMAT_VERSION, Network, Node, Project
from graph_schema.files import MIGRATIONS, project_from_json, project_to_json

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def small_project(name="p") -> Project:
    node = Node(id="a", type="io.Input", name="x", params={"shape": ["N", 3]})
    return Project(name=name, networks=[Network(name="main", nodes=[node])])


def test_round_trip_is_identical(tmp_path):
    path = tmp_path / "p.json"
    original = load_project(os.path.join(EXAMPLES, "lenet.json"))
    save_project(original, path)
    again = load_project(path)
    assert again == original
    assert project_to_json(again) == project_to_json(original)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    save_project(small_project("first"), path)
    before = path.read_text()

    def broken_replace(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_project(small_project("second"), path)
    assert path.read_text() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_save_keeps_file_permissions(tmp_path):
    path = tmp_path / "p.json"
    save_project(small_project(), path)
    path.chmod(0o640)
    save_project(small_project("again"), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_version_1_migrates_to_current():
    old = {"format_version": 1, "name": "legacy", "nodes": [
        {"id": "a", "type": "io.Input", "name": "x", "params": {"shape": ["N", 4]}}],
        "edges": []}
    project = project_from_json(json.dumps(old))
    assert project.format_version == FORMAT_VERSION
    assert project.name == "legacy"
    assert project.networks[0].nodes[0].name == "x"
    assert set(MIGRATIONS) == set(range(1, FORMAT_VERSION))  # a complete chain


def write(tmp_path, content, name="bad.json", binary=False):
    path = tmp_path / name
    if binary:
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BAD_FILES = [
    ("{not json", "not valid JSON (line 1"),
    ("[1, 2]", "expected a JSON object"),
    ('{"networks": []}', "format_version"),
    ('{"format_version": 99, "networks": []}', "newer than this TorchCanvas"),
    ('{"format_version": 0, "networks": []}', "unknown format_version 0"),
    ('{"format_version": "2", "networks": []}', "format_version"),
    ('{"format_version": 2, "networks": []}', "networks"),
    ('{"format_version": 2, "networks": [{"name": "m", "nodes": [{"id": "a", "type": "x", '
     '"name": "n"}, {"id": "a", "type": "x", "name": "m"}]}]}', "node id 'a' is used twice"),
    ('{"format_version": 2, "networks": [{"name": "m", "nodes": "lots"}]}', "nodes"),
    ('{"format_version": 2, "networks": [{"name": "m", "nodes": [{"id": "a b", "type": "x", '
     '"name": "n"}]}]}', "id"),
    ('{"format_version": 2, "networks": [{"name": "m", "nodes": [{"id": "a", "type": "x", '
     '"name": "n", "position": {"x": NaN, "y": 0}}]}]}', "NaN is not a number"),
    ('{"format_version": 2, "networks": [{"name": "m"}], "evil": 1}', "evil"),
    ('{"format_version": 2, "networks": [{"name": "m"}, {"name": "m"}]}', "two networks"),
    ("[" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize("content, expected", BAD_FILES)
def test_bad_files_give_one_clear_reason(tmp_path, content, expected):
    path = write(tmp_path, content)
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_not_utf8(tmp_path):
    with pytest.raises(ProjectError, match="not UTF-8"):
        load_project(write(tmp_path, b"\xff\xfe\x00garbage", binary=True))


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(ProjectError, match="is a directory"):
        load_project(tmp_path)
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "missing.json")


def test_a_save_removes_what_killed_saves_left_and_only_that(tmp_path):
    target = tmp_path / "p.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        litter = tmp_path / f".p.json.{dead.pid}.abc123.tmp"
        busy = tmp_path / f".p.json.{alive.pid}.def456.tmp"
        other = tmp_path / f".q.json.{dead.pid}.ghi789.tmp"
        for path in (litter, busy, other):
            path.write_text("half a project")
        save_project(Project(networks=[Network(name="n")]), target)
        assert not litter.exists()  # its writer is gone
        assert busy.exists() and other.exists()  # a live writer's, and another file's
    finally:
        alive.kill()
        alive.wait()
