{
  "targets": [
    {
      "target_name": "tandem_search",
      "sources": ["src/tandem_search.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions"],
      "cflags_cc!": ["-O2"],
      "conditions": [
        ["OS=='win'", { "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } } }],
        ["OS=='mac'", { "xcode_settings": { "GCC_OPTIMIZATION_LEVEL": "3", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" } }]
      ]
    },
    {
      "target_name": "tandem_io",
      "sources": ["src/tandem_io.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions"],
      "cflags_cc!": ["-O2"],
      "conditions": [
        ["OS=='win'", { "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2, "AdditionalOptions": ["/std:c++17"] } } }],
        ["OS=='mac'", { "xcode_settings": { "GCC_OPTIMIZATION_LEVEL": "3", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" } }]
      ]
    }
  ]
}
