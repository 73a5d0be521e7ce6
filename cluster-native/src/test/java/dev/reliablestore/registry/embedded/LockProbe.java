package dev.reliablestore.registry.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Another process trying to take an embedded registry's directory lock, as a second application
 * would: record locks belong to a process, so only a child JVM can tell whether this one still
 * holds the lock for everyone else.
 */
final class LockProbe {

    private LockProbe() {
    }

    /** Child side: prints {@code LOCKED} if it could take the lock on {@code args[0]}, else {@code HELD}. */
    public static void main(String[] args) throws IOException {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            System.out.println(lock == null ? "HELD" : "LOCKED");
        }
    }

    /** Whether a child JVM could take the lock of the registry directory {@code dir} just now (it lets go at once). */
    static boolean anotherProcessCouldLock(Path dir) throws IOException, InterruptedException {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                LockProbe.class.getName(), dir.resolve(EmbeddedRegistry.LOCK_FILE).toString())
                .redirectErrorStream(true)
                .start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!child.waitFor(30, TimeUnit.SECONDS) || child.exitValue() != 0 || !(out.equals("LOCKED") || out.equals("HELD"))) {
                throw new IllegalStateException("the lock probe failed: " + out);
            }
            return out.equals("LOCKED");
        } finally {
            child.destroyForcibly();
        }
    }
}
