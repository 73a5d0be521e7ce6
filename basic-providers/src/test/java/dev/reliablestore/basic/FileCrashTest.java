package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kill -9 a process that is saving (single documents and batches) at a random moment, ten times:
 * every acknowledged save must be there afterwards and no batch may be half-applied.
 */
class FileCrashTest {

    private static final int KILLS = 10;

    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void reap() throws InterruptedException {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor();
        }
    }

    @Test
    void acknowledgedSavesSurviveSigkillAndBatchesAreNeverHalfApplied() throws Exception {
        Random random = new Random();
        long lastBatch = -1;
        for (int round = 0; round < KILLS; round++) {
            List<String> acks = new CopyOnWriteArrayList<>();
            child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                    FileCrashChild.class.getName(), dir.toString(), Long.toString(round * 1_000_000L))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Process running = child;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(running.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        acks.add(line);
                    }
                } catch (Exception ignored) {
                    // the child was killed mid-line
                }
            });
            reader.setDaemon(true);
            reader.start();
            int killAfter = 3 + random.nextInt(60);
            await().atMost(Duration.ofSeconds(90)).until(() -> acks.size() >= killAfter || !running.isAlive());
            assertThat(running.isAlive()).as("child still saving when killed").isTrue();
            running.destroyForcibly(); // SIGKILL
            running.waitFor();
            reader.join(10_000);
            child = null;

            try (StoreFactory factory = Persistence.openFactory("file", Map.of("directory", dir.toString()))) {
                EntityStore<FileCrashChild.CrashEntity> store = factory.store(FileCrashChild.CrashEntity.class);
                for (String ack : acks) {
                    String[] parts = ack.split(" ");
                    long n = Long.parseLong(parts[1]);
                    if (parts[0].equals("S")) {
                        assertThat(store.get("s-" + n)).as("acknowledged save s-%d (round %d)", n, round)
                                .hasValueSatisfying(v -> assertThat(v.value().n()).isEqualTo(n));
                    } else {
                        lastBatch = n;
                    }
                }
                Map<String, Versioned<FileCrashChild.CrashEntity>> batch = store.getMany(List.of("b-0", "b-1", "b-2"));
                if (lastBatch >= 0) {
                    assertThat(batch).as("batch entities after round %d", round).hasSize(3);
                }
                if (!batch.isEmpty()) {
                    assertThat(batch).hasSize(3);
                    long n = batch.get("b-0").value().n();
                    assertThat(batch.values()).as("a batch is all or nothing").allSatisfy(v -> {
                        assertThat(v.value().n()).isEqualTo(n);
                        assertThat(v.version()).isEqualTo(batch.get("b-0").version());
                    });
                    assertThat(n).as("the last acknowledged batch or a later one").isGreaterThanOrEqualTo(lastBatch);
                }
            }
        }
        // recovery left no temporary files or journals behind
        try (Stream<Path> files = Files.walk(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith(".tmp-") || n.startsWith(".batch-") || n.endsWith(".journal"));
        }
    }
}
