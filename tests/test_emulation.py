"""`emulate()` as a user meets it: a block, a decorator, used again after it ends."""

import asyncio

import fal_client

from emulator import BackgroundServer, emulate


def test_a_decorated_function_runs_afresh_in_the_emulation_at_every_call() -> None:
    """As moto's decorators do: the second call of a decorated function was refused
    ("this emulation has ended"), so a decorated parametrized test passed once."""
    emulation = emulate(seed=1)

    @emulation
    def generate(prompt: str) -> str:
        return fal_client.run("fal-ai/bitdance", arguments={"prompt": prompt})["images"][0]["url"]

    @emulation
    async def generate_async(prompt: str) -> str:
        made = await fal_client.run_async("fal-ai/bitdance", arguments={"prompt": prompt})
        return made["images"][0]["url"]

    first, again = generate("a"), generate("a")
    assert first == again  # each call starts afresh under the seed
    assert asyncio.run(generate_async("b")) == asyncio.run(generate_async("b"))
    assert emulation.calls("fal-ai/bitdance").call_count == 1  # the last call's record


def test_an_emulation_that_ended_can_be_entered_again() -> None:
    emulation = emulate()
    with emulation:
        fal_client.run("fal-ai/bitdance", arguments={"prompt": "x"})
    with emulation:
        assert emulation.calls().call_count == 0  # a fresh start
        fal_client.run("fal-ai/bitdance", arguments={"prompt": "y"})
        assert emulation.calls().call_count == 1


def test_the_wavespeed_sdk_imported_inside_keeps_no_placeholder_key_after() -> None:
    """The SDK reads its key at import: imported inside the emulation, it read the
    placeholder, and kept it for every later use (a later emulate(fake_credentials=False)
    among them)."""
    import os
    import subprocess
    import sys

    script = (
        "from emulator import emulate\n"
        "with emulate():\n"
        "    import wavespeed\n"
        "    assert wavespeed.config.api.api_key\n"
        "print(repr(wavespeed.config.api.api_key))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "WAVESPEED_API_KEY"}
    ran = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() in ("None", "''")


WS_BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"


def test_the_wavespeed_sdks_cached_client_is_as_the_emulation_found_it(
    server: BackgroundServer,
) -> None:
    """The SDK's module-level helpers make one default client on first use, with the base
    URL and key then in force, and keep it: one made in an emulation outlived it (a later
    ``config.patch`` to a server was ignored), and one made before was used in it."""
    import wavespeed
    from wavespeed import api as helpers

    found = helpers._default_client
    helpers._default_client = None
    to_server = {"api.base_url": f"{server.url}/wavespeed", "api.api_key": "mine"}
    try:
        with emulate():
            wavespeed.run(WS_BITDANCE, {"prompt": "inside"}, poll_interval=0.01)
        with wavespeed.config.patch(to_server):
            wavespeed.run(WS_BITDANCE, {"prompt": "served"}, poll_interval=0.01)
        for_server = helpers._default_client
        with emulate() as emulation:
            wavespeed.run(WS_BITDANCE, {"prompt": "inside"}, poll_interval=0.01)
            assert emulation.calls(WS_BITDANCE).call_count == 1
        assert helpers._default_client is for_server
        assert server.engine.record.calls(WS_BITDANCE).call_count == 1
    finally:
        helpers._default_client = found
