{
  "targets": [
    {
      "target_name": "gvsp_native",
      "sources": ["src/gvsp_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS!='linux'", { "sources!": ["src/gvsp_native.c"], "sources": ["src/unsupported.c"] }]
      ]
    }
  ]
}
