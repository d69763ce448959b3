import fal_client.client as fal

from emulator.clients import patch_fal_client


def test_patch_points_every_url_and_restores_them() -> None:
    before = (fal.RUN_URL_FORMAT, fal.QUEUE_URL_FORMAT, fal.REST_URL, fal.CDN_URL)
    with patch_fal_client("http://127.0.0.1:1/"):
        assert fal.QUEUE_URL_FORMAT == "http://127.0.0.1:1/fal/queue/"
        assert fal.RUN_URL_FORMAT == "http://127.0.0.1:1/fal/run/"
        assert (fal.REST_URL, fal.CDN_URL) == (
            "http://127.0.0.1:1/fal/rest",
            "http://127.0.0.1:1/fal/cdn",
        )
    assert (fal.RUN_URL_FORMAT, fal.QUEUE_URL_FORMAT, fal.REST_URL, fal.CDN_URL) == before
