package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.client.FourLetterWordMain;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/**
 * One standalone ZooKeeper server in a child JVM ({@code ZooKeeperServerMain}). The server reads
 * {@code jute.maxbuffer} from a JVM-wide static, and these tests' own JVM raises it (ZkTestSupport),
 * so a server with a smaller limit than its clients needs a JVM of its own. Loopback port chosen
 * free at run time, data in the given directory, admin server off; {@link #close()} kills and reaps it.
 */
final class ZooKeeperServerProcess implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final Process process;

    /** Starts the server with {@code jvmOptions} (e.g. {@code -Djute.maxbuffer=…}; none: ZooKeeper's defaults) and waits until it serves. */
    ZooKeeperServerProcess(Path dir, String... jvmOptions) throws IOException {
        this(dir, freePort(), List.of(), jvmOptions);
    }

    /**
     * Starts the server on {@code port} with these extra zoo.cfg lines (e.g. a TLS server's
     * {@code secureClientPort} and {@code ssl.*}); a restart gives the same port and directory.
     */
    ZooKeeperServerProcess(Path dir, int port, List<String> config, String... jvmOptions) throws IOException {
        this.dir = dir;
        this.port = port;
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("zoo.cfg"), "tickTime=500\n"
                + "dataDir=" + dir.resolve("data") + "\n"
                + "clientPort=" + port + "\n"
                + "clientPortAddress=127.0.0.1\n"
                + "admin.enableServer=false\n"
                + "4lw.commands.whitelist=srvr\n"
                + "preAllocSize=4096\n"
                + config.stream().map(line -> line + "\n").collect(Collectors.joining()));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dzookeeper.admin.enableServer=false",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", classPath(), "org.apache.zookeeper.server.ZooKeeperServerMain", dir.resolve("zoo.cfg").toString()));
        this.process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile())).start();
        try {
            await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                    .until(() -> !process.isAlive() || serving());
            if (!process.isAlive()) {
                throw new IllegalStateException("the ZooKeeper server exited with " + process.exitValue() + ":\n" + log());
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    static int freePort() throws IOException {
        return freePorts(1)[0];
    }

    /**
     * {@code n} distinct free ports: each socket stays open until all are chosen (closed one by one,
     * the system could hand out the same port twice).
     */
    static int[] freePorts(int n) throws IOException {
        ServerSocket[] sockets = new ServerSocket[n];
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    private boolean serving() {
        try {
            return FourLetterWordMain.send4LetterWord("127.0.0.1", port, "srvr", false, 500).contains("Mode:");
        } catch (Exception e) {
            return false;
        }
    }

    /** The test class path: surefire passes the real one in surefire.test.class.path (java.class.path may be a manifest jar). */
    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    String log() throws IOException {
        Path p = dir.resolve("server.log");
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("ZooKeeper server pid " + process.pid() + " did not die");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
