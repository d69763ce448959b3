# ruff: noqa: E501 (generated: one document a line)
"""The shipped contract documents (by path under the contracts folder) and the SHA-256 of
each: a document that matches loads unchecked, as the test suite checks it; any other (one
added to the folder, or changed) is checked as it loads. Written by
``tests/contracts/shipped_digests.py --write``; a test keeps it current."""

SHIPPED = {
    "fal/fal-ai/bitdance.json": "7c9b075d3410bb3b9bb26c7a9b07c867735497071eb7f840557da420bae36e81",
    "fal/fal-ai/bytedance/dreamina/v3.1/text-to-image.json": "24f577046a20de9e78fa1c4dfc5f34940d6cc3c948da65cbe5f11fec839f2a67",
    "fal/fal-ai/bytedance/seedance/v1/pro/fast/image-to-video.json": "d751e588fc75163a2c6fb68e333d50c3361d97bfb07943b8c60c254ae6a78fa2",
    "fal/fal-ai/bytedance/seedream/v4/text-to-image.json": "5599b280c48c851dedc470208f6b0046f8e5c9f92f1e28b57a79b619edc800a8",
    "fal/fal-ai/fast-lcm-diffusion.json": "951cefc2c0e0dd824b9621092e1643471759b77e071194ab32378e0d66a937e1",
    "fal/fal-ai/flux-2/klein/realtime.json": "9dbac14d65674f9707316bee3e7cd82db4afe001b397440e1fc814cc408651f0",
    "wavespeed/bytedance/seedance-v1-lite-t2v-480p.json": "2f3086fc2969ce00123e43dbbffecec6acc68f2722bd9ccdfdc44de30906094e",
    "wavespeed/bytedance/seedance-v1-pro-i2v-1080p.json": "e8cf1db9531270f0ac9425b3b6bf7150a5c701efda93c8cff0a8e5093db99ade",
    "wavespeed/bytedance/seedream-v4/edit.json": "f7594f4dd91b6763125b14c0844f8486a9426b6c037eadabe1e405b32e129144",
    "wavespeed/bytedance/seedream-v4.json": "877e1415ec9dc49c0d90d9be21ee9f1e88294f0d35a8c68f7585b16627952259",
    "wavespeed/kwaivgi/kling-v2.1-i2v-standard.json": "ed1158e12ef2fdabcf003be12e76e9abdb32e6e9e4149e9d2a83c1b218ed8baa",
    "wavespeed/minimax/speech-02-hd.json": "4d8896306f66fe1d481ce46ce1d5547f0c648a94e472768cbc8f3ddbcce41a6e",
    "wavespeed/wavespeed-ai/bitdance-14b/text-to-image.json": "1a430f67d2c934ca7158cefdf4f94ccb0d7be88a7f5c91e1d614fdc441e2ce8b",
    "wavespeed/wavespeed-ai/flux-dev.json": "82215fdac689430cac66c1b5b7c789c11fe210aece20d11c6350abd51b711d7d",
    "wavespeed/wavespeed-ai/mmaudio-v2.json": "241346bcfb54e04bc3dc3467c62e66d94989dcf1bb163efe311e3da639106518",
    "wavespeed/wavespeed-ai/wan-2.2/i2v-480p-lora-ultra-fast.json": "3123ebb53add03d2ac6eb822d4963ae7251e577459ee578c24800bbcad77868a",
    "wavespeed/wavespeed-ai/wan-2.2/t2v-480p.json": "52d61208e7a0a51da67ede2368e291dcab68e7b21437e4ce3f1a7f0bdb0e1f03",
    "wavespeed/wavespeed-ai/z-image/turbo.json": "c024da2adbc82784054313b785c38027db16cc9234dd179ef5ca9596b8f5c60c",
}
