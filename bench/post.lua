-- wrk script of bench/throughput.py: POSTs prepared form requests, each once, in turn.
-- Arguments: FILE THREADS LOCATION. FILE holds one request per line: path, Cookie header and
-- form body, separated by tabs; thread n of THREADS takes lines n, n + THREADS, ...
-- An answer that is not a redirect to a Location containing LOCATION counts as unexpected;
-- "wrapped" counts how often a thread ran out of prepared requests and began again.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, count = args[1], tonumber(args[2])
  expected_location = args[3]
  prepared = {}
  local index = 0
  for line in io.lines(file) do
    if index % count == id then
      local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
      local headers = {
        ["Cookie"] = cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["User-Agent"] = "careapp-bench/1",
      }
      table.insert(prepared, wrk.format("POST", path, headers, body))
    end
    index = index + 1
  end
  following = 1
  unexpected = 0
  wrapped = 0
end

function request()
  local prepared_request = prepared[following]
  following = following + 1
  if following > #prepared then
    following = 1
    wrapped = wrapped + 1
  end
  return prepared_request
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status ~= 302 or not location:find(expected_location, 1, true) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total_unexpected, total_wrapped = 0, 0
  for _, thread in ipairs(threads) do
    total_unexpected = total_unexpected + thread:get("unexpected")
    total_wrapped = total_wrapped + thread:get("wrapped")
  end
  io.write(string.format("unexpected answers: %d\nwrapped: %d\n", total_unexpected, total_wrapped))
end
