package dev.reliablestore.cluster.audit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Another process opening an audit log, as a second application on the host would: prints what happened. */
final class AuditLockProbe {

    private AuditLockProbe() {
    }

    public static void main(String[] args) {
        try (AuditLog log = AuditLog.open(Path.of(args[0]), args[1])) {
            System.out.println("OPENED " + log.file());
        } catch (RuntimeException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
    }

    /** What a child JVM got when it tried to open the node's log in {@code directory}. */
    static String tryFromAnotherProcess(Path directory, String node) throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=off",
                "-cp", System.getProperty("java.class.path"), AuditLockProbe.class.getName(), directory.toString(), node)
                .redirectErrorStream(true)
                .start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!child.waitFor(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the audit lock probe did not end: " + out);
            }
            return out;
        } finally {
            child.destroyForcibly();
        }
    }
}
