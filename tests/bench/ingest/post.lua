-- wrk script: each thread posts its own share of the pre-signed requests
-- (file ARGS[1].<thread>) in order and counts answers by status. With
-- ARGS[2] == "stop" a thread stops when its share is used up, so no request
-- is ever repeated (warblerd); with "cycle" it starts over (the nginx
-- baseline, where only the cost of each request matters).
local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   cycle = args[2] == "cycle"
   reqs = {}
   for line in io.lines(args[1] .. "." .. tid) do
      local tab = line:find("\t", 1, true)
      reqs[#reqs + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
   end
   idx = 0
   ok, other, exhausted = 0, 0, 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   idx = idx + 1
   local r = reqs[idx]
   if r == nil then
      if cycle then
         idx = 1
      else
         exhausted = 1
         wrk.thread:stop()
         idx = #reqs
      end
      r = reqs[idx]
   end
   wrk.headers["X-Warbler-Signature"] = r[1]
   return wrk.format(nil, nil, nil, r[2])
end

function response(status, headers, body)
   if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
   local tok, tother, tex = 0, 0, 0
   for _, t in ipairs(threads) do
      tok = tok + t:get("ok")
      tother = tother + t:get("other")
      tex = tex + t:get("exhausted")
   end
   io.write(string.format("status_200 %d\nstatus_other %d\nexhausted %d\n", tok, tother, tex))
end
