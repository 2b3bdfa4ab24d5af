/* fuzz_restjson.c: libFuzzer target for rest-json response parsing and error extraction
 * (bindings/restjson.c through aws.core.protocol.parse / parse_error).
 *
 * Input: byte 0 picks an operation of Detective or GuardDuty; then a message
 * (fuzz_util.h) whose first line is the HTTP status, then response headers, an empty line
 * and the body. A 2xx status goes to parse, anything else to parse_error. Rules checked:
 * parse returns a table or raises a string naming "<service>:<lua_op>:"; parse_error
 * never raises and always gives a table with a string code. */
#include "fuzz_lua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const dt_operation *s_pick(uint8_t b, const dt_service **svc) {
    size_t n_det = dt_service_detective.n_operations;
    size_t total = n_det + dt_service_guardduty.n_operations;
    size_t i = b % total;
    *svc = i < n_det ? &dt_service_detective : &dt_service_guardduty;
    return i < n_det ? &dt_service_detective.operations[i]
                     : &dt_service_guardduty.operations[i - n_det];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const dt_service *svc;
    const dt_operation *op = s_pick(data[0], &svc);
    fz_msg m;
    if (fz_msg_parse_n(&m, data + 1, size - 1, 1) != 0) return 0;
    fz_check_parse(svc, op, &m);
    fz_msg_free(&m);
    return 0;
}
