package dev.reliablestore.it.zookeeper;

import org.apache.zookeeper.client.FourLetterWordMain;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A ZooKeeper ensemble of separate JVMs ({@code QuorumPeerMain}), for tests that must kill a server
 * with SIGKILL rather than stop it politely. Loopback ports are chosen free at run time, data and
 * logs live in the given directory, the admin server is off, and the {@code srvr}/{@code ruok}
 * four-letter words find the leader. {@link #close()} always kills and reaps every child process.
 *
 * <p>Reusable by any it-test (registry or provider level): start, {@link #connectString()},
 * {@link #leader()}, {@link #kill(int)}, {@link #stop(int)} (graceful), {@link #pause(int)}/{@link #resume(int)}
 * (SIGSTOP/SIGCONT), {@link #start(int)}, {@link #awaitQuorum(Duration)}.
 */
public final class ZooKeeperEnsemble implements AutoCloseable {

    private final Path dir;
    private final int size;
    private final int tickTimeMs;
    private final int[] clientPorts;
    private final int[] quorumPorts;
    private final int[] electionPorts;
    private final Process[] processes;

    /** Writes the configuration of {@code size} servers under {@code dir}; call {@link #startAll()} next. */
    public ZooKeeperEnsemble(Path dir, int size, int tickTimeMs) throws IOException {
        this.dir = dir;
        this.size = size;
        this.tickTimeMs = tickTimeMs;
        this.clientPorts = new int[size];
        this.quorumPorts = new int[size];
        this.electionPorts = new int[size];
        this.processes = new Process[size];
        int[] ports = freePorts(3 * size);
        for (int i = 0; i < size; i++) {
            clientPorts[i] = ports[3 * i];
            quorumPorts[i] = ports[3 * i + 1];
            electionPorts[i] = ports[3 * i + 2];
        }
        for (int i = 0; i < size; i++) {
            Path serverDir = dir.resolve("s" + (i + 1));
            Files.createDirectories(serverDir.resolve("data"));
            Files.writeString(serverDir.resolve("data/myid"), String.valueOf(i + 1));
            StringBuilder cfg = new StringBuilder()
                    .append("tickTime=").append(tickTimeMs).append('\n')
                    .append("initLimit=10\nsyncLimit=5\n")
                    .append("dataDir=").append(serverDir.resolve("data")).append('\n')
                    .append("clientPort=").append(clientPorts[i]).append('\n')
                    .append("clientPortAddress=127.0.0.1\n")
                    .append("admin.enableServer=false\n")
                    .append("4lw.commands.whitelist=srvr,ruok,mntr\n")
                    .append("preAllocSize=4096\n");
            for (int j = 0; j < size; j++) {
                cfg.append("server.").append(j + 1).append("=127.0.0.1:").append(quorumPorts[j]).append(':').append(electionPorts[j]).append('\n');
            }
            Files.writeString(serverDir.resolve("zoo.cfg"), cfg.toString());
        }
    }

    /** Appends {@code lines} to server {@code i}'s zoo.cfg (e.g. quorum TLS); before it starts. */
    public void addConfig(int i, List<String> lines) throws IOException {
        Files.writeString(dir.resolve("s" + (i + 1)).resolve("zoo.cfg"), String.join("\n", lines) + "\n", StandardOpenOption.APPEND);
    }

    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    public void startAll() throws IOException {
        for (int i = 0; i < size; i++) {
            start(i);
        }
    }

    /** Starts server {@code i} (0-based) as a child JVM with the test class path. */
    public void start(int i) throws IOException {
        if (processes[i] != null && processes[i].isAlive()) {
            throw new IllegalStateException("server " + (i + 1) + " is already running");
        }
        Path serverDir = dir.resolve("s" + (i + 1));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.admin.enableServer=false", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", serverDir.resolve("zoo.cfg").toString());
        processes[i] = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(serverDir.resolve("server.log").toFile())).start();
    }

    /**
     * Starts every server that is not running and waits for the quorum: for a class that shares one ensemble
     * across its tests, so that a test that failed with servers down does not fail the next ones too.
     */
    public void restoreAll(Duration timeout) throws IOException {
        for (int i = 0; i < size; i++) {
            if (!running(i)) {
                start(i);
            }
        }
        awaitQuorum(timeout);
    }

    /** SIGKILLs server {@code i} and waits for the process to be gone. */
    public void kill(int i) throws InterruptedException {
        Process p = processes[i];
        if (p != null) {
            p.destroyForcibly();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("server " + (i + 1) + " (pid " + p.pid() + ") did not die after SIGKILL");
            }
        }
    }

    /** Stops server {@code i} gracefully (SIGTERM, what {@code zkServer.sh stop} sends) and waits for it to exit. */
    public void stop(int i) throws InterruptedException {
        Process p = processes[i];
        if (p != null && p.isAlive()) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("server " + (i + 1) + " (pid " + p.pid() + ") did not exit within 30 s of SIGTERM");
            }
        }
    }

    /** Freezes server {@code i} with SIGSTOP: its sockets stay open, nothing answers. {@link #close()} still kills it. */
    public void pause(int i) throws IOException, InterruptedException {
        signal(i, "STOP");
    }

    /** Lets a paused server {@code i} run again (SIGCONT). */
    public void resume(int i) throws IOException, InterruptedException {
        signal(i, "CONT");
    }

    private void signal(int i, String signal) throws IOException, InterruptedException {
        Process p = processes[i];
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("server " + (i + 1) + " is not running");
        }
        // the shell's own kill: a minimal image has a shell but maybe no kill program (procps)
        Process kill = new ProcessBuilder("sh", "-c", "kill -" + signal + " " + p.pid()).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            kill.destroyForcibly();
            throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
        }
    }

    public boolean running(int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    public int size() {
        return size;
    }

    public String connectString() {
        StringJoiner j = new StringJoiner(",");
        for (int p : clientPorts) {
            j.add("127.0.0.1:" + p);
        }
        return j.toString();
    }

    /** The connect string of some of the servers only: a client that must stay on (or off) given servers. */
    public String connectString(int... servers) {
        StringJoiner j = new StringJoiner(",");
        for (int i : servers) {
            j.add("127.0.0.1:" + clientPorts[i]);
        }
        return j.toString();
    }

    public int clientPort(int i) {
        return clientPorts[i];
    }

    /** {@code srvr}'s Mode line of server {@code i}: leader, follower, standalone; null when it does not answer. */
    public String mode(int i) {
        try {
            String out = FourLetterWordMain.send4LetterWord("127.0.0.1", clientPorts[i], "srvr", false, 1000);
            for (String line : out.split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return line.substring(6).trim();
                }
            }
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    /** The index of the current leader, or -1. */
    public int leader() {
        for (int i = 0; i < size; i++) {
            if (processes[i] != null && processes[i].isAlive() && "leader".equals(mode(i))) {
                return i;
            }
        }
        return -1;
    }

    /** Waits until a leader serves and every running server follows it. */
    public void awaitQuorum(Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
            int leaders = 0;
            for (int i = 0; i < size; i++) {
                if (processes[i] == null || !processes[i].isAlive()) {
                    continue;
                }
                String m = mode(i);
                if (m == null) {
                    return false;
                }
                leaders += "leader".equals(m) ? 1 : 0;
            }
            return leaders == 1;
        });
    }

    public String log(int i) throws IOException {
        Path p = dir.resolve("s" + (i + 1)).resolve("server.log");
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }

    /** Kills and reaps every server. */
    @Override
    public void close() {
        for (Process p : processes) {
            if (p != null) {
                p.destroyForcibly();
            }
        }
        for (Process p : processes) {
            if (p != null) {
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    public int tickTimeMs() {
        return tickTimeMs;
    }
}
