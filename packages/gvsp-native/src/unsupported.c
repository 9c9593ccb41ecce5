// Built on systems other than Linux: the addon loads and says it cannot receive, so @cam/gvsp falls back.
#define NAPI_VERSION 8
#include <node_api.h>

static napi_value init(napi_env env, napi_value exports) {
  napi_throw_error(env, "ERR_GVSP_NATIVE_UNSUPPORTED", "@cam/gvsp-native receives on Linux only (recvmmsg, AF_PACKET)");
  return NULL;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
