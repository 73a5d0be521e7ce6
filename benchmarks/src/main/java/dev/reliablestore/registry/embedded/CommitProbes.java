package dev.reliablestore.registry.embedded;

/** The benchmarks' read access to the embedded registry's package-private {@link CommitProbe} (same package, another jar). */
public final class CommitProbes {

    private CommitProbes() {
    }

    /** Whether the probes record ({@code -Dreliablestore.probes=true}). */
    public static boolean enabled() {
        return CommitProbe.ENABLED;
    }

    /** The calling thread's stamps of its last SYNC commit: entered, appended, returned. */
    public static long[] committer() {
        return CommitProbe.committerStamps();
    }

    /** The stamps of the last flush: buffer taken, written, forced, published. */
    public static long[] lastFlush() {
        return CommitProbe.lastFlushStamps();
    }
}
