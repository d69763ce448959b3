"""`emulate()` as a user meets it: a block, a decorator, used again after it ends."""

import asyncio

import fal_client

from emulator import emulate


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
