-- aws.retry: AWS "standard" retry mode. Decides whether a failed attempt is retried,
-- how long to wait (exponential backoff with full jitter, capped at 20 s), and keeps
-- the retry quota (a token bucket per endpoint, so a failing endpoint is not
-- hammered). It does not perform requests; aws.client calls it between attempts.
local M = {}

M.MAX_BACKOFF_S = 20
M.INITIAL_QUOTA = 500
M.RETRY_COST = 5
M.TIMEOUT_COST = 10
M.NO_RETRY_INCREMENT = 1

local buckets = {} -- endpoint -> tokens left

local function bucket(key)
  local b = buckets[key]
  if not b then
    b = { tokens = M.INITIAL_QUOTA }
    buckets[key] = b
  end
  return b
end

-- Reset all quotas (tests).
function M.reset()
  buckets = {}
end

-- err: aws.Error. Returns true and the delay in seconds, or false and why not.
-- attempt: the number of the attempt that just failed (1-based).
function M.should_retry(err, attempt, max_attempts, key, rand)
  if attempt >= max_attempts then return false, "max attempts reached" end
  if not err.retryable then return false, "not retryable" end
  local b = bucket(key)
  local cost = (err.code == "ReadTimeout" or err.code == "ConnectTimeout") and M.TIMEOUT_COST or M.RETRY_COST
  if b.tokens < cost then return false, "retry quota exhausted" end
  b.tokens = b.tokens - cost
  err._retry_cost = cost
  local r = (rand or math.random)()
  local delay = r * math.min(M.MAX_BACKOFF_S, 2 ^ (attempt - 1))
  return true, delay
end

-- Called after a successful attempt: returns tokens to the bucket.
function M.on_success(key, retried_cost)
  local b = bucket(key)
  b.tokens = math.min(M.INITIAL_QUOTA, b.tokens + (retried_cost or M.NO_RETRY_INCREMENT))
end

function M.tokens(key)
  return bucket(key).tokens
end

return M
