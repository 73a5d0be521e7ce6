package dev.reliablestore.api;

import java.time.Duration;

/**
 * What a store measured since it was opened. Latencies are of the synchronous calls as the caller
 * saw them (including retries); percentiles come from a log-scaled histogram whose buckets are at
 * most 1/16 (6.25 %) wide, so p50 and p99 are exact to that resolution.
 *
 * @param reads                   completed read calls (get, getMany, exists, getAll, count)
 * @param writes                  completed write calls (save, delete, saveBatch, clear)
 * @param averageReadLatency      mean read latency
 * @param p50ReadLatency          median read latency
 * @param p99ReadLatency          99th percentile read latency
 * @param averageWriteLatency     mean write latency
 * @param p50WriteLatency         median write latency
 * @param p99WriteLatency         99th percentile write latency
 * @param cacheHits               reads answered by the local cache
 * @param cacheMisses             reads that had to go to storage while a cache was enabled
 * @param retries                 retried attempts after retryable failures
 * @param conflicts               version conflicts detected (resolved or reported)
 * @param bytesBeforeCompression  encoded entity bytes before compression, summed over writes
 * @param bytesAfterCompression   the same bytes as stored after compression
 */
public record PerformanceMetrics(
        long reads,
        long writes,
        Duration averageReadLatency,
        Duration p50ReadLatency,
        Duration p99ReadLatency,
        Duration averageWriteLatency,
        Duration p50WriteLatency,
        Duration p99WriteLatency,
        long cacheHits,
        long cacheMisses,
        long retries,
        long conflicts,
        long bytesBeforeCompression,
        long bytesAfterCompression) {

    /** Hits over all cached lookups, 0 when no lookup went through a cache. */
    public double cacheHitRatio() {
        long lookups = cacheHits + cacheMisses;
        return lookups == 0 ? 0.0 : (double) cacheHits / lookups;
    }

    /** Stored bytes over encoded bytes (below 1 when compression pays), 1 when nothing was written. */
    public double compressionRatio() {
        return bytesBeforeCompression == 0 ? 1.0 : (double) bytesAfterCompression / bytesBeforeCompression;
    }
}
