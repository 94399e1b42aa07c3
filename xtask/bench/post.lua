-- wrk script of `cargo xtask bench`: POSTs one prebuilt body as Event Grid clients do, and prints
-- one machine-readable line at the end.
-- Usage: wrk ... -s post.lua URL -- BODY_FILE KEY
function init(args)
    local file = assert(io.open(args[1], "rb"))
    wrk.method = "POST"
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = "application/json; charset=utf-8"
    wrk.headers["aeg-sas-key"] = args[2]
end

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        "WRK requests=%d duration_us=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d latency_p50_us=%d latency_p99_us=%d\n",
        summary.requests, summary.duration, errors.status, errors.connect, errors.read,
        errors.write, errors.timeout, latency:percentile(50), latency:percentile(99)))
end
