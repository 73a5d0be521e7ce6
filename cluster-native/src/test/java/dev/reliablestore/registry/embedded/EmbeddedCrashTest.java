package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.VersionedValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Kills a child JVM that commits batches from several threads (SIGKILL, at a random point of its
 * progress) again and again, and checks after each kill that every acknowledged batch survived and
 * that no batch is half-applied.
 *
 * <p>Every other kill is checked on a copy of the directory, so the next child opens what the kill
 * left (a clean close trims the preallocated zeros) and goes on writing into that zero tail. Kills
 * alternate two snapshot thresholds: 64 KiB (the first write zeroes the whole segment) and 1 MiB
 * (segments grow in 128 KiB steps and may rotate early onto a spare).
 *
 * <p>The soak variant runs outside CI:
 * {@code mvn -B -o verify -pl cluster-native -am -Dtest=EmbeddedCrashTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dreliablestore.soak=true -Dreliablestore.soak.kills=500}.
 */
class EmbeddedCrashTest {

    private static final int THREADS = 4;

    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void reapChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void acknowledgedBatchesSurviveSigkillAndNoneIsHalfApplied() throws Exception {
        runKills(20, new Random().nextLong());
    }

    @Test
    @EnabledIfSystemProperty(named = "reliablestore.soak", matches = "true")
    void soak() throws Exception {
        runKills(Integer.getInteger("reliablestore.soak.kills", 500), new Random().nextLong());
    }

    private void runKills(int kills, long seed) throws Exception {
        Random random = new Random(seed);
        Path dir = tmp.resolve("registry");
        Map<Integer, Set<Long>> acked = new ConcurrentHashMap<>();
        int totalAcks = 0;
        // each child JVM is started as soon as the previous one is dead and waits for GO before it opens the
        // directory, so its start-up overlaps the check of what the previous one left
        Process next = startChild(dir, 0);
        for (int kill = 0; kill < kills; kill++) {
            String context = "kill " + kill + " (seed " + seed + ")";
            Path stderr = stderr(kill);
            Process child = next;
            go(child);
            AtomicBoolean ready = new AtomicBoolean();
            AtomicInteger acksThisRun = new AtomicInteger();
            Thread reader = new Thread(() -> readAcks(child, ready, acksThisRun, acked), "crash-test-reader");
            reader.start();
            await().alias(context + ": child ready").atMost(Duration.ofSeconds(60)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
                    .until(() -> ready.get() || !child.isAlive());
            assertThat(child.isAlive()).as(context + ": child alive; stderr: " + read(stderr)).isTrue();
            if (kill == 0) {
                assertThatThrownBy(() -> ClusterRegistries.open("embedded:" + dir))
                        .isInstanceOf(RegistryUnavailableException.class)
                        .hasMessageContaining("in use by another process").hasMessageContaining(dir.toString());
            }
            int target = random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(150);
            await().alias(context + ": " + target + " acknowledgements").atMost(Duration.ofSeconds(60))
                    .until(() -> acksThisRun.get() >= target || !child.isAlive());
            assertThat(child.isAlive()).as(context + ": child alive; stderr: " + read(stderr)).isTrue();
            child.destroyForcibly(); // SIGKILL on Linux
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(30_000);
            if (kill + 1 < kills) {
                next = startChild(dir, kill + 1);
            }
            totalAcks += acksThisRun.get();
            if (kill % 2 == 0) {
                verify(dir, acked, context);
            } else {
                Path copy = tmp.resolve("verify-" + kill);
                copyDirectory(dir, copy);
                verify(copy, acked, context + ", checked on a copy");
                deleteDirectory(copy);
            }
        }
        assertThat(totalAcks).as("acknowledged batches over all runs").isGreaterThan(kills);
        assertThat(SnapshotFiles.list(dir)).as("snapshots were taken between kills").isNotEmpty();
        System.out.println("crash test: " + kills + " kills, " + totalAcks + " acknowledged batches, all present (seed " + seed + ")");
    }

    private Process startChild(Path dir, int kill) throws IOException {
        Process child = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                CrashWorkload.class.getName(), dir.toString(), String.valueOf(THREADS), kill % 4 < 2 ? "65536" : "1048576")
                .redirectError(stderr(kill).toFile())
                .start();
        children.add(child);
        return child;
    }

    private Path stderr(int kill) {
        return tmp.resolve("child-" + kill + ".err");
    }

    private static void go(Process child) throws IOException {
        child.getOutputStream().write("GO\n".getBytes(StandardCharsets.US_ASCII));
        child.getOutputStream().flush();
    }

    private static void readAcks(Process child, AtomicBoolean ready, AtomicInteger count, Map<Integer, Set<Long>> acked) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                if (c != '\n') {
                    line.append((char) c);
                    continue;
                }
                String l = line.toString();
                line.setLength(0);
                if (l.equals("READY")) {
                    ready.set(true);
                } else if (l.startsWith("ACK ")) {
                    String[] parts = l.split(" ");
                    acked.computeIfAbsent(Integer.parseInt(parts[1]), k -> ConcurrentHashMap.newKeySet()).add(Long.parseLong(parts[2]));
                    count.incrementAndGet();
                }
                // a line cut off by the kill has no '\n' and is ignored: it was never fully reported
            }
        } catch (IOException e) {
            // the child was killed
        }
    }

    private static void verify(Path dir, Map<Integer, Set<Long>> acked, String context) {
        try (ClusterRegistry r = ClusterRegistries.open("embedded:" + dir)) {
            for (int t = 0; t < THREADS; t++) {
                Optional<VersionedValue> x = r.getValue(RegistryPath.of("x", "t" + t), "n");
                Optional<VersionedValue> y = r.getValue(RegistryPath.of("y", "t" + t), "n");
                Optional<VersionedValue> z = r.getValue(RegistryPath.of("z", "t" + t, "deep"), "n");
                assertThat(y).as(context + ": thread " + t + " y equals x (no half batch)").isEqualTo(x);
                assertThat(z).as(context + ": thread " + t + " z equals x (no half batch)").isEqualTo(x);
                long last = CrashWorkload.last(r, t);
                Set<Long> mine = acked.getOrDefault(t, Set.of());
                long maxAcked = mine.stream().mapToLong(Long::longValue).max().orElse(-1);
                assertThat(last).as(context + ": thread " + t + " kept its newest acknowledged batch").isGreaterThanOrEqualTo(maxAcked);
                List<String> markers = r.keyExists(RegistryPath.of("log", "t" + t)) ? r.subkeys(RegistryPath.of("log", "t" + t)) : List.of();
                assertThat(markers).as(context + ": thread " + t + " has exactly the markers 0.." + last).hasSize((int) (last + 1));
                for (long i : mine) {
                    assertThat(r.keyExists(RegistryPath.of("log", "t" + t, "i" + i))).as(context + ": acknowledged batch " + t + "/" + i).isTrue();
                }
                if (x.isPresent()) {
                    VersionedValue marker = r.getValue(RegistryPath.of("log", "t" + t, "i" + last), "payload").orElseThrow();
                    assertThat(marker.revision()).as(context + ": one batch, one revision").isEqualTo(x.get().revision());
                }
            }
        }
    }

    private static void copyDirectory(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }

    private static void deleteDirectory(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
