package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The child JVM of the crash test: commits batches from several threads until it is killed and
 * prints {@code ACK <thread> <i>} for each batch once it is acknowledged as durable (thread 0: ASYNC,
 * its future completed; thread 1: ASYNC, {@code awaitDurable} returned after it; the others: SYNC
 * commit returned). Every batch sets x/t, y/t and z/t/deep to i and creates
 * log/t/i, so a half-applied batch or a lost acknowledged one is visible after recovery.
 *
 * <p>Arguments: directory, threads, snapshotThreshold (e.g. 64KiB). The child opens the directory only once it
 * reads {@code GO} from its standard input.
 */
public final class CrashWorkload {

    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.US_ASCII);

    private CrashWorkload() {
    }

    static WriteBatch batch(int thread, long i) {
        RegistryValue v = RegistryValue.qword(i);
        byte[] payload = new byte[200];
        // never zero: a kill that cuts a record at a page boundary right after more than 8 zero bytes of its own is
        // refused as damage (a documented false alarm, embedded-backend.md), which this test is not about
        java.util.Arrays.fill(payload, (byte) (i | 1));
        return WriteBatch.builder()
                .setValue(RegistryPath.of("x", "t" + thread), "n", v)
                .setValue(RegistryPath.of("y", "t" + thread), "n", v)
                .setValue(RegistryPath.of("z", "t" + thread, "deep"), "n", v)
                .setValue(RegistryPath.of("log", "t" + thread, "i" + i), "payload", RegistryValue.binary(payload))
                .build();
    }

    /** The last i a thread committed, or -1. */
    static long last(ClusterRegistry r, int thread) {
        Optional<VersionedValue> v = r.getValue(RegistryPath.of("x", "t" + thread), "n");
        return v.map(x -> x.value().asQword()).orElse(-1L);
    }

    private static synchronized void ack(int thread, long i) {
        OUT.print("ACK " + thread + " " + i + "\n");
        OUT.flush();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        // started ahead of its turn (while the test checks what the previous child left): the directory is untouched
        // until the test says GO
        try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
            if (!"GO".equals(in.readLine())) {
                return; // the test ended without this child's turn
            }
        }
        int threads = Integer.parseInt(args[1]);
        ClusterRegistry r = ClusterRegistries.open("embedded:" + dir, Map.of("snapshotThreshold", args[2], "nodeName", "crash-child"));
        synchronized (CrashWorkload.class) {
            OUT.print("READY\n");
            OUT.flush();
        }
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread worker = new Thread(() -> {
                long i = last(r, thread) + 1;
                if (thread == 0) {
                    // ASYNC: acknowledged when the future completes, i.e. when durable
                    ArrayDeque<CompletableFuture<CommitResult>> inFlight = new ArrayDeque<>();
                    while (true) {
                        long n = i++;
                        CompletableFuture<CommitResult> f = r.commitAsync(batch(thread, n));
                        f.thenRun(() -> ack(thread, n));
                        inFlight.add(f);
                        if (inFlight.size() > 32) {
                            inFlight.poll().join();
                        }
                    }
                }
                if (thread == 1) {
                    // ASYNC, futures ignored: acknowledged by awaitDurable, which covers every batch shown
                    // before the call (commitAsync returns once its batch is readable)
                    java.util.Random random = new java.util.Random();
                    while (true) {
                        long first = i;
                        for (int k = 1 + random.nextInt(16); k > 0; k--) {
                            r.commitAsync(batch(thread, i++));
                        }
                        r.awaitDurable();
                        for (long n = first; n < i; n++) {
                            ack(thread, n);
                        }
                    }
                }
                while (true) {
                    r.commit(batch(thread, i));
                    ack(thread, i);
                    i++;
                }
            }, "crash-writer-" + t);
            worker.start();
        }
        Thread.currentThread().join(); // until killed
    }
}
