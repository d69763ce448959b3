"""The plugin as a user meets it: installed, found through its entry point."""

import inspect
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass

import pytest

from emulator import BackgroundServer

pytest_plugins = ["pytester"]


#: without schemathesis's plugin: the suite's own tooling, not a user's, it took 0.7 s of
#: each process's 1.7 s start here, and as much again in each xdist worker
_ARGS = ("-p", "no:cacheprovider", "-p", "no:schemathesis")


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A pytest run of the test's files in a process of its own, as a user's is."""
    return pytester.runpytest_subprocess(*_ARGS, *args)


def run_start(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A pytest run that ends as it starts (its options, its markers), in this process: a
    run of its own all the same (its config, the plugin found through its entry point),
    without a new process's second of start-up. Only for runs that import next to nothing:
    pytester drops, after a run in this process, the modules that the run imported, and
    the next import of one is a second copy beside the first (a run of the emulator
    imports scores of modules)."""
    return pytester.runpytest_inprocess(*_ARGS, *args)


#: a line of the run's summary (``-rA``): what became of a test
_OUTCOME = re.compile(r"(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+?)::")


@dataclass(frozen=True)
class Project:
    """What the run of `FILES` printed."""

    lines: list[str]

    def assert_outcomes(self, file: str, **expected: int) -> None:
        """That ``file``'s tests ended so (``passed=2``…); else fail with the whole output."""
        found = (_OUTCOME.match(line) for line in self.lines)
        outcomes = Counter(m[1].lower() for m in found if m and m[2] == file)
        assert outcomes == expected, "\n".join(self.lines)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """`FILES`, run as a user's project is: a pytest process of its own, with no key of
    either provider in its environment."""
    folder = tmp_path_factory.mktemp("project")
    for name, source in FILES.items():
        (folder / name).write_text(source)
    unset = {"FAL_KEY", "WAVESPEED_API_KEY", "PYTEST_ADDOPTS"}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *_ARGS, "-rA", *FILES],
        cwd=folder,
        env={**env, "PY_COLORS": "0"},
        capture_output=True,
        text=True,
        timeout=90,
    )
    return Project(done.stdout.splitlines())


ISOLATION = """
import fal_client
import pytest

SEEN = []

@pytest.mark.provider_emulator(seed=11)
@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_afresh(provider_emulator, run):
    assert len(provider_emulator.jobs) == 0
    SEEN.append(fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"}).request_id)
    assert len(provider_emulator.jobs) == 1
    if len(SEEN) == 2:  # same seed, fresh state: the same first id
        assert SEEN[0] == SEEN[1]
"""


def test_the_fixture_isolates_tests(project: Project) -> None:
    project.assert_outcomes("test_isolation.py", passed=2)


@pytest.mark.slow  # a pytest run of two xdist workers: 2-2.5 s
def test_the_fixture_works_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ISOLATION)
    result = run_inner(pytester, "-n", "2")
    result.assert_outcomes(passed=2)


MARKERS = """
import pytest

pytestmark = pytest.mark.provider_emulator(seed=3, progression="polls:2,2")


@pytest.mark.provider_emulator(progression="immediate")
class TestNested:
    @pytest.mark.provider_emulator(api_keys=["k"])
    def test_closer_options_win_and_farther_ones_stay(self, provider_emulator):
        config = provider_emulator.engine.config
        assert (config.seed, str(config.progression), config.api_keys) == (
            3, "immediate", frozenset({"k"})
        )


@pytest.mark.provider_emulator("polls:1,1")
def test_an_option_not_named_is_refused(provider_emulator):
    pass


@pytest.mark.provider_emulator(replay=".")  # the run's folder: no recordings in it
def test_a_replay_of_no_recording_is_refused(provider_emulator):
    pass


@pytest.mark.provider_emulator(sed=7)
def test_an_unknown_option_is_refused(provider_emulator):
    pass


@pytest.mark.provider_emulator(progression="poll:1,1")
def test_a_value_refused_is_one_line(provider_emulator):
    pass
"""


def test_markers_merge_and_options_not_named_or_unknown_are_refused(project: Project) -> None:
    # a class's seed was dropped by a method's marker; "polls:1,1" was silently ignored; a
    # replay of no recording emulated every call, and the test passed
    project.assert_outcomes("test_markers.py", passed=1, error=4)
    said = pytest.LineMatcher(project.lines)
    said.fnmatch_lines(["*provider_emulator takes options by name*not 'polls:1,1'*"])
    said.fnmatch_lines(["*RecordingError: * holds no recordings*"])
    # a typo was Emulation.__init__'s TypeError, which named no marker
    said.fnmatch_lines(["*provider_emulator has no option 'sed'; its options: *seed*"])
    # a value Emulation refuses was a traceback through the plugin, emulation.py and
    # the module that refused it
    said.fnmatch_lines(["*provider_emulator marker: ValueError: *cannot read progression*"])
    assert not any("emulator/emulation.py" in line for line in project.lines)


MARKED_ONLY = """
import fal_client
import pytest


@pytest.mark.provider_emulator(seed=7)
def test_marked_without_the_fixture():
    result = fal_client.run("fal-ai/bitdance", arguments={"prompt": "x"})
    assert result["images"][0]["url"].startswith("https://v3.fal.media/")


def test_unmarked_tests_are_left_alone():
    import os

    assert "FAL_KEY" not in os.environ
"""


def test_a_marked_test_is_emulated_without_naming_the_fixture(project: Project) -> None:
    """The marker alone sent the test's calls to the real API (with a real FAL_KEY)."""
    project.assert_outcomes("test_marked_only.py", passed=2)


MONKEYPATCHED = """
import os


def test_sets_its_own_key(monkeypatch, provider_emulator):
    monkeypatch.setenv("FAL_KEY", "the-tests-own")


def test_finds_no_key_after_it():
    assert "FAL_KEY" not in os.environ
"""


def test_a_key_a_test_sets_itself_is_undone_with_the_placeholder(project: Project) -> None:
    """The test's monkeypatch, set up before the fixture, put the placeholder back after
    the fixture had taken it away: every later test saw FAL_KEY set."""
    project.assert_outcomes("test_monkeypatched.py", passed=2)


MODULE_HELPERS = """
import wavespeed
from wavespeed import api


def test_uses_the_module_helpers(provider_emulator):
    model = "wavespeed-ai/bitdance-14b/text-to-image"
    assert wavespeed.run(model, {"prompt": "x"}, poll_interval=0.01)["outputs"]


def test_finds_no_client_after_it():
    assert api._default_client is None
"""


def test_the_wavespeed_sdks_cached_client_does_not_outlive_the_test(project: Project) -> None:
    """The SDK's module-level helpers cache a client on first use: the fixture's, with its
    placeholder key, stayed for every later test."""
    project.assert_outcomes("test_module_helpers.py", passed=2)


#: the files above, as a user's project: run together, by one pytest process (a process
#: each spent a second or two starting, for a tenth of a second of tests)
FILES = {
    "test_isolation.py": ISOLATION,
    "test_markers.py": MARKERS,
    "test_marked_only.py": MARKED_ONLY,
    "test_monkeypatched.py": MONKEYPATCHED,
    "test_module_helpers.py": MODULE_HELPERS,
}


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = run_start(pytester, "--markers")
    result.stdout.fnmatch_lines(["*provider_emulator(**options)*"])


def test_the_markers_description_names_every_option_it_takes(pytester: pytest.Pytester) -> None:
    # it left out config, which the marker takes (every option of Emulation's)
    from emulator.emulation import Emulation

    result = run_start(pytester, "--markers")
    (line,) = [line for line in result.outlines if "provider_emulator(**options)" in line]
    named = re.search(r"\(([^()]*)\)\s*$", line)  # the list closing the line
    assert named is not None, line
    assert set(named[1].split(", ")) == set(inspect.signature(Emulation).parameters), line


LIVE = """
def test_one(live_sessions):
    pass

def test_two(live_sessions):
    pass
"""


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--max-spend", "0", "--max-spend must be more than 0 USD (got 0.0)"),
        ("--max-spend", "-1", "--max-spend must be more than 0 USD (got -1.0)"),
        # a "hard cap" of infinity, accepted before (a harness audit)
        ("--max-spend", "inf", "--max-spend must be a finite amount of USD (got inf)"),
        # a traceback at each live test's set-up, before
        ("--upstream", "fal=notaurl", "--upstream: upstream 'notaurl' is not an http(s) URL"),
    ],
)
def test_a_live_option_that_cannot_work_is_one_usage_error(
    pytester: pytest.Pytester, option: str, value: str, said: str
) -> None:
    pytester.makepyfile(LIVE)
    result = run_start(pytester, "--live", option, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line] == [f"ERROR: {said}"]
    assert "LiveError" not in result.stdout.str()


LIVE_CALLS = """
from emulator.harness.live import SpendCapExceeded


def test_a_call(live_sessions):
    try:
        live_sessions.session("fal").run("fal-ai/bitdance", {"prompt": "a cat"})
    except SpendCapExceeded:
        pass
"""


@pytest.mark.slow  # a pytest run of two xdist workers: 4-5 s
def test_the_cap_is_the_whole_runs_across_xdists_workers(
    pytester: pytest.Pytester, server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker kept a ledger of its own: under ``-n 2`` a cap that allows one $0.01
    call allowed two, and the controller printed no ledger (a newcomer's audit)."""
    monkeypatch.setenv("FAL_KEY", "upstream-fal")
    pytester.makepyfile(LIVE_CALLS)
    result = run_inner(
        pytester, "-n", "2", "--dist", "each", "--live",
        "--max-spend", "0.015", "--upstream", server.url,
    )  # fmt: skip
    result.assert_outcomes(passed=2)  # the test on each worker: one call made, one refused
    assert len(server.engine.jobs) == 1
    result.stdout.fnmatch_lines(
        ["*live spend ledger*", "1 calls, estimated $0.0100 of a $0.015 cap (1 refused)"]
    )


def test_loading_the_plugin_loads_no_emulator() -> None:
    # every pytest run of a project with the package installed loads the plugin: the
    # emulator (312-349 ms of imports) waits for the first test that uses it
    probe = "import sys, emulator.pytest_plugin; print('emulator.emulation' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_a_live_runs_start_reads_no_unicode_tables(pytester: pytest.Pytester) -> None:
    # --live sets up the run's ledger as pytest starts, importing the harness; its import
    # of hypothesis-jsonschema read Hypothesis's Unicode tables there, and Hypothesis
    # warned every live run of a slow plugin (HypothesisSideeffectWarning)
    pytester.makepyfile("def test_nothing(): pass")
    result = run_inner(pytester, "--live", "-W", "error::hypothesis.errors.HypothesisWarning")
    result.assert_outcomes(passed=1)
