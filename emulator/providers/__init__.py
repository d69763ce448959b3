"""Provider adapters: each translates one provider's wire protocol to the engine.

Importing this package (which importing `emulator` does) registers where each provider's
contract documents put their operations, and nothing heavier: the engine needs the layouts
to read contracts, whether or not the providers' routes are ever loaded.
"""

from emulator.core.registry import Layout, register

#: fal: ``POST /{id}`` and ``GET /{id}/requests/{request_id}`` (fal's published format)
FAL_LAYOUT = Layout("/", "{submit}/requests/{{request_id}}")
#: WaveSpeed: ``POST /api/v3/{model}`` and the shared ``GET /api/v3/predictions/{id}/result``;
#: base64 outputs with a webhook are refused (a 400, wavespeed/routes.py BASE64_WITH_WEBHOOK)
WAVESPEED_LAYOUT = Layout(
    "/api/v3/",
    "/api/v3/predictions/{{request_id}}/result",
    refused_inputs=(
        {
            "required": ["webhook_url", "enable_base64_output"],
            "properties": {"enable_base64_output": {"const": True}},
        },
    ),
    # account.py's and routes.py's paths (tests/providers/wavespeed keep the list whole)
    api_words=frozenset(
        "balance billings media model models predictions upload user webhook".split()
    ),
    # huggingface.js sends WaveSpeed its pictures so (providers/wavespeed.ts); fal's
    # clients and docs give URLs or data URIs, and what fal does with naked base64 is unknown
    naked_base64_media=True,
    media_urls=("data", "outputs"),
    dashless_job_ids=True,  # envelopes.task_id
)

register("fal", FAL_LAYOUT)
register("wavespeed", WAVESPEED_LAYOUT)
