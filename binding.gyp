{
  "targets": [
    {
      "target_name": "weft_tap",
      "sources": ["native/tap/tap.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
