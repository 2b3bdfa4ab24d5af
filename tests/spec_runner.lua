-- Runs busted inside detlua, so that specs see the embedded modules exactly as playbooks do.
local src = os.getenv("DT_SRC") or "."
package.path = src .. "/tests/spec/?.lua;" .. src .. "/tests/lib/?.lua;" .. package.path
require("busted.runner")({ standalone = false })
