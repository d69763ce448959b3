import pytest

from emulator.contracts.vectors import makes_vectors


@pytest.mark.parametrize(
    ("endpoint_id", "inputs", "vectors"),
    [
        ("fal-ai/recraft/v4.1/pro/text-to-vector", {}, True),
        ("fal-ai/recraft/vectorize", {}, True),
        ("fal-ai/image2svg", {}, True),
        ("fal-ai/vecglypher", {}, True),
        ("fal-ai/recraft/v3/text-to-image", {"style": "vector_illustration"}, True),
        ("fal-ai/recraft/v3/text-to-image", {"style": "vector_illustration/bold_stroke"}, True),
        ("fal-ai/recraft/v3/text-to-image", {"style": "realistic_image"}, False),
        ("fal-ai/recraft/v3/text-to-image", {}, False),
        ("fal-ai/flux/dev", {"style": "vector_illustrations"}, False),
    ],
)
def test_which_pictures_are_vectors(endpoint_id: str, inputs: dict, vectors: bool) -> None:
    assert makes_vectors(endpoint_id, inputs) is vectors
