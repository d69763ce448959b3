from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.query_input import query_input
from emulator.contracts.validation import check_input

BITDANCE = load_contracts([DEFAULT_CONTRACTS_DIR]).get("fal", "fal-ai/bitdance")


def test_values_are_typed_as_their_properties_take_them() -> None:
    # what @fal-ai/client's `run(…, {method: "get"})` writes (URLSearchParams: all text)
    pairs = [("prompt", "2"), ("num_images", "2"), ("image_size", "square"), ("sync_mode", "true")]
    inputs = query_input(BITDANCE, pairs)
    assert inputs == {"prompt": "2", "num_images": 2, "image_size": "square", "sync_mode": True}
    assert check_input(BITDANCE, inputs)[1] == []


def test_text_that_is_no_such_value_stays_text_for_validation_to_name() -> None:
    for text in ("two", "2.5", "1_0", " 2", "nan", "1e999", "9" * 5000):
        inputs = query_input(BITDANCE, [("prompt", "x"), ("num_images", text)])
        assert inputs["num_images"] == text
        assert check_input(BITDANCE, inputs)[1][0].loc == ("num_images",)


def test_a_number_field_takes_fractions_and_an_array_one_item_per_repetition() -> None:
    edit = shipped_catalogue().endpoint("fal-ai/bytedance/seedream/v4/edit")  # a `number` count
    pairs = [("num_images", "2.0"), ("image_urls", "https://a.test/1.png")]
    pairs.append(("image_urls", "https://a.test/2.png"))
    inputs = query_input(edit, pairs)
    assert inputs == {
        "num_images": 2.0,
        "image_urls": ["https://a.test/1.png", "https://a.test/2.png"],
    }


def test_a_repeated_scalar_is_its_last_value_and_an_unknown_name_stays_text() -> None:
    inputs = query_input(BITDANCE, [("num_images", "1"), ("num_images", "3"), ("extra", "4")])
    assert inputs == {"num_images": 3, "extra": "4"}


def test_an_array_of_numbers_is_read_from_one_comma_joined_value() -> None:
    # @fal-ai/client's URLSearchParams writes [1200, 800] as "1200,800"
    expand = shipped_catalogue().endpoint("fal-ai/bria/expand")
    inputs = query_input(expand, [("canvas_size", "1200,800"), ("original_image_size", "600")])
    assert inputs == {"canvas_size": [1200, 800], "original_image_size": [600]}
    # a list of texts is not split: a data URI holds a comma
    edit = shipped_catalogue().endpoint("fal-ai/bytedance/seedream/v4/edit")
    uri = "data:image/png;base64,iVBOR"
    assert query_input(edit, [("image_urls", uri)]) == {"image_urls": [uri]}
