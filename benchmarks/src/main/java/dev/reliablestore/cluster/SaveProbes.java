package dev.reliablestore.cluster;

/** The benchmarks' read access to the provider's package-private {@link SaveProbe} (same package, another jar). */
public final class SaveProbes {

    private SaveProbes() {
    }

    /** Whether the probes record ({@code -Dreliablestore.probes=true}). */
    public static boolean enabled() {
        return SaveProbe.ENABLED;
    }

    /** The calling thread's stamps of its last synchronous save (indices: see {@link SaveProbe}). */
    public static long[] stamps() {
        return SaveProbe.stamps();
    }
}
