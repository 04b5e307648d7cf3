"""configman configuration: compat shim, precedence, INI round trip, the checked-in dump."""
import collections
import importlib
import inspect
import pathlib
import subprocess
import sys

import pytest

from crashgate.settings import backend_map, load_config

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_compat_shim_restores_removed_names_for_configman():
    import crashgate.configman_compat as compat

    importlib.reload(compat)
    assert collections.MutableSet is collections.abc.MutableSet
    assert collections.Mapping is collections.abc.Mapping
    assert inspect.getargspec(lambda a, b=1: None).args == ["a", "b"]
    # configman itself imports and builds a DotDict on top of the restored names
    import configman.dotdict

    assert isinstance(configman.dotdict.DotDict(), collections.abc.MutableMapping)


def test_configman_needs_the_shim_in_a_fresh_interpreter():
    code = "import configman"
    bare = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert bare.returncode != 0 and "MutableSet" in bare.stderr
    shimmed = subprocess.run([sys.executable, "-c", "import crashgate.configman_compat;" + code],
                             capture_output=True, text=True, cwd=ROOT)
    assert shimmed.returncode == 0, shimmed.stderr


def test_defaults():
    config = load_config([], environ={})
    assert config.web_server.port == 8883 and config.database.dsn == ""
    assert config.implementations.default == "postgresql"
    assert config.implementations.service_overrides == {}


def test_precedence_ini_then_environment_then_command_line(tmp_path):
    ini = tmp_path / "c.ini"
    ini.write_text("[web_server]\nport=9001\nip_address=0.0.0.0\n[database]\n"
                   "statement_timeout_ms=5\n")
    config = load_config([f"--admin.conf={ini}"], environ={})
    assert (config.web_server.port, config.web_server.ip_address) == (9001, "0.0.0.0")
    env = {"web_server__port": "9002", "database__statement_timeout_ms": "6"}
    config = load_config([f"--admin.conf={ini}"], environ=env)
    assert config.web_server.port == 9002 and config.database.statement_timeout_ms == 6
    config = load_config([f"--admin.conf={ini}", "--web_server.port=9003"], environ=env)
    assert config.web_server.port == 9003


def test_service_overrides_parsing():
    config = load_config(["--implementations.service_overrides=search: elasticsearch, a: b"],
                         environ={})
    assert config.implementations.service_overrides == {"search": "elasticsearch", "a": "b"}
    with pytest.raises(ValueError):
        backend_map("search elasticsearch")


def test_bad_option_value_is_rejected():
    from configman.config_exceptions import CannotConvertError

    with pytest.raises(CannotConvertError):
        load_config(["--web_server.port=abc"], environ={})


def dump(path):
    with pytest.raises(SystemExit):
        load_config([f"--admin.dump_conf={path}"], environ={})
    return path.read_text()


def test_dump_is_complete_and_reads_back(tmp_path):
    text = dump(tmp_path / "dump.ini")
    for section in ("[web_server]", "[database]", "[implementations]", "[logging]"):
        assert section in text
    edited = text.replace("#port=8883", "port=8999").replace("#level=INFO", "level=DEBUG")
    (tmp_path / "edited.ini").write_text(edited)
    config = load_config([f"--admin.conf={tmp_path / 'edited.ini'}"], environ={})
    assert config.web_server.port == 8999 and config.logging.level == "DEBUG"
    assert config.logging.format.startswith("%(asctime)s")


def test_checked_in_ini_dist_is_current(tmp_path):
    """config/crashgate.ini-dist must be exactly what --admin.dump_conf writes today."""
    fresh = dump(tmp_path / "fresh.ini")
    checked_in = (ROOT / "config" / "crashgate.ini-dist").read_text()
    assert checked_in == fresh, ("config/crashgate.ini-dist is stale: regenerate it with "
                                 "`crashgate serve --admin.dump_conf=config/crashgate.ini-dist`")


def test_boolean_options_accept_values_from_every_source():
    assert load_config(["--elasticsearch.indexer_enabled=false"], environ={}).elasticsearch.indexer_enabled is False
    assert load_config([], environ={"sample_data__load_on_first_start": "no"}).sample_data.load_on_first_start is False
    assert load_config([], environ={}).sample_data.load_on_first_start is True
