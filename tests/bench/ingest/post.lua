-- wrk script: each thread posts its own share of the pre-signed requests in
-- order, never repeating one, and counts answers by status.
local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   nthreads = tonumber(args[2])
   reqs = {}
   local i = 0
   for line in io.lines(args[1]) do
      if i % nthreads == tid then
         local tab = line:find("\t", 1, true)
         reqs[#reqs + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
      end
      i = i + 1
   end
   idx = 0
   ok, other = 0, 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   idx = idx + 1
   local r = reqs[idx]
   if r == nil then
      wrk.thread:stop()
      r = reqs[#reqs]
   end
   wrk.headers["X-Warbler-Signature"] = r[1]
   return wrk.format(nil, nil, nil, r[2])
end

function response(status, headers, body)
   if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
   local tok, tother = 0, 0
   for _, t in ipairs(threads) do
      tok = tok + t:get("ok")
      tother = tother + t:get("other")
   end
   io.write(string.format("status_200 %d\nstatus_other %d\n", tok, tother))
end
