package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.cluster.UnfinishedRestoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A restore stopped part-way (SIGTERM, then kill -9) leaves the store marked as an unfinished restore: the restore says
 * so when it is signalled, the provider refuses to open the store, status, verify and health report it, a backup
 * refuses it; a rerun with --force completes and removes the mark. The restore is paused at a known batch by
 * {@link PausingRestoreMain}, then stopped: no timing is guessed.
 */
class RestoreInterruptedProcessTest {

    /** About three write batches (two commands an entity, 4,000 a batch). */
    static final int ENTITIES = 5000;

    @TempDir
    Path dir;

    private CliProcess cli;

    @AfterEach
    void stop() {
        if (cli != null) {
            cli.close();
        }
    }

    private String uri(String name) {
        return "embedded:" + dir.resolve(name);
    }

    private Path backupOf(String store) {
        try (StoreFactory f = TestStores.cluster(store)) {
            for (int from = 0; from < ENTITIES; from += 1000) {
                Map<String, JsonNode> batch = new LinkedHashMap<>();
                for (int i = from; i < from + 1000; i++) {
                    batch.put(String.format("N-%05d", i), Json.MAPPER.createObjectNode().put("text", "note " + i));
                }
                f.store("Note", JsonNode.class).saveBatch(batch);
            }
        }
        Path backup = dir.resolve("notes.rsbackup");
        CliProcess.Result b = CliProcess.inProcess("backup", "--store", store, "--out", backup.toString());
        assertThat(b.exitCode()).as(b.toString()).isZero();
        return backup;
    }

    /** Starts a restore that pauses after batch {@code pauseAfter}, and waits until it has. */
    private CliProcess.Running pausedRestore(int pauseAfter, String... args) {
        return pausedRestore(String.valueOf(pauseAfter), args);
    }

    /** As {@link #pausedRestore(int, String...)}; {@code "N/stuck"} pauses after batch N for good (see PausingRestoreMain). */
    private CliProcess.Running pausedRestore(String pauseAfter, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = pauseAfter;
        System.arraycopy(args, 0, all, 1, args.length);
        CliProcess.Running running = cli.startMain(PausingRestoreMain.class, Map.of(), all);
        String paused = "paused after batch " + pauseAfter.replace("/stuck", "");
        await().atMost(Duration.ofSeconds(60)).until(() -> running.err().contains(paused) || !running.process.isAlive());
        assertThat(running.process.isAlive()).as("paused: " + running.err()).isTrue();
        return running;
    }

    /**
     * A batch the registry takes longer to answer than the signal's hook waits (stuck here, the hook waiting one
     * second): the JVM exits without the restore's own word, so the hook says what the target may be left as.
     */
    @Test
    void aRestoreThatCannotStopInTimeStillSaysWhatItLeaves() throws Exception {
        cli = new CliProcess(dir);
        Path backup = backupOf(uri("source"));
        String target = uri("target");

        CliProcess.Running stuck = pausedRestore("1/stuck", "restore", "--store", target, "--in", backup.toString());
        stuck.process.toHandle().destroy(); // SIGTERM
        CliProcess.Result stopped = stuck.await(60);
        assertThat(stopped.exitCode()).as(stopped.toString()).isEqualTo(143);
        assertThat(stopped.err()).as(stopped.toString()).contains("did not stop within 1 s of the signal")
                .containsPattern("after 1 of \\d+ batches, with the next one in flight").contains("partly restored")
                .contains("marked as an unfinished restore").contains("restore --force");
        assertThatThrownBy(() -> TestStores.cluster(target).close()).isInstanceOf(UnfinishedRestoreException.class);
    }

    /**
     * A failure is said (picocli's handler would say it once the command returned) before the restore lets a signal's
     * shutdown hook return, which lets the JVM exit: said after, the line could be lost. In this process: the hook's
     * latch is looked at when the line is written.
     */
    @Test
    void aRestoreSaysWhyItFailedBeforeASignalsHookIsReleased() {
        String target = uri("held");
        try (StoreFactory f = TestStores.cluster(target)) {
            f.store("Note", JsonNode.class).save("mine", Json.MAPPER.createObjectNode().put("text", "held"));
        }
        String source = uri("one");
        try (StoreFactory f = TestStores.cluster(source)) {
            f.store("Note", JsonNode.class).save("N-1", Json.MAPPER.createObjectNode().put("text", "note"));
        }
        Path backup = dir.resolve("one.rsbackup");
        assertThat(CliProcess.inProcess("backup", "--store", source, "--out", backup.toString()).exitCode()).isZero();

        RestoreCommand[] restore = new RestoreCommand[1];
        java.util.List<Long> hookHeldWhenSaid = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.io.StringWriter text = new java.io.StringWriter();
        java.io.Writer err = new java.io.Writer() {
            @Override
            public void write(char[] c, int off, int len) {
                String s = new String(c, off, len);
                if (s.contains("error:")) {
                    hookHeldWhenSaid.add(restore[0].reported.getCount());
                }
                text.write(s);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        picocli.CommandLine cmd = ReliableStoreCli.commandLine(new java.io.PrintWriter(new java.io.StringWriter(), true),
                new java.io.PrintWriter(err, true));
        restore[0] = cmd.getSubcommands().get("restore").getCommand();
        int code = cmd.execute("restore", "--store", target, "--in", backup.toString()); // refused: the target holds an entity

        assertThat(code).as(text.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(text.toString()).contains("already holds").contains("nothing was changed");
        assertThat(hookHeldWhenSaid).as("the hook still waiting when the error was said").containsExactly(1L);
    }

    /** How many batches a restore of {@code backup} into a fresh embedded store takes (run once, in this JVM). */
    private int batchesIntoAFreshStore(Path backup) throws Exception {
        CliProcess.Result r = CliProcess.inProcess("restore", "--store", uri("counting"), "--in", backup.toString(), "--json");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return Json.MAPPER.readTree(r.out()).get("batches").asInt();
    }

    /**
     * SIGTERM while the last batch is in flight: no batch is left to stop before, so the restore goes on, verifies,
     * removes its mark and exits as if it had not been signalled (0), saying nothing of an interruption.
     */
    @Test
    void aSignalDuringTheLastBatchLetsTheRestoreVerifyAndFinish() throws Exception {
        cli = new CliProcess(dir);
        Path backup = backupOf(uri("source"));
        int batches = batchesIntoAFreshStore(backup);
        String target = uri("target");

        CliProcess.Running last = pausedRestore(batches, "restore", "--store", target, "--in", backup.toString());
        last.process.toHandle().destroy(); // SIGTERM, the last batch applied but the restore not yet told
        CliProcess.Result done = last.await(60);
        assertThat(done.exitCode()).as(done.toString()).isZero();
        assertThat(done.out()).as(done.toString()).contains("in " + batches + " batch(es)")
                .contains("verified: the store's contents equal the backup");
        assertThat(done.err()).as(done.toString()).doesNotContain("interrupted").doesNotContain("partly").doesNotContain("error");
        try (StoreFactory f = TestStores.cluster(target)) { // its mark removed
            assertThat(f.store("Note", JsonNode.class).count()).isEqualTo(ENTITIES);
        }
    }

    @Test
    void anInterruptedRestoreLeavesAMarkThatKeepsTheStoreClosedUntilARerunCompletes() throws Exception {
        cli = new CliProcess(dir);
        Path backup = backupOf(uri("source"));
        String target = uri("target");

        // 0: SIGTERM once the mark is written, before the first batch: nothing else changed, and the mark goes again
        String held = uri("held");
        try (StoreFactory f = TestStores.cluster(held)) {
            f.store("Note", JsonNode.class).save("mine", Json.MAPPER.createObjectNode().put("text", "held"));
        }
        CliProcess.Running early = pausedRestore(0, "restore", "--store", held, "--in", backup.toString(), "--force");
        early.process.toHandle().destroy(); // SIGTERM
        CliProcess.Result untouched = early.await(60);
        assertThat(untouched.exitCode()).as(untouched.toString()).isEqualTo(143);
        assertThat(untouched.err()).as(untouched.toString()).contains("interrupted before it changed anything").doesNotContain("partly");
        try (StoreFactory f = TestStores.cluster(held)) {
            assertThat(f.store("Note", JsonNode.class).get("mine")).isPresent();
        }

        // 1: SIGTERM after the first batch: it stops before the next one and says what it left
        CliProcess.Running first = pausedRestore(1, "restore", "--store", target, "--in", backup.toString());
        first.process.toHandle().destroy(); // SIGTERM
        CliProcess.Result stopped = first.await(60);
        assertThat(stopped.exitCode()).as(stopped.toString()).isEqualTo(143);
        assertThat(stopped.err()).as(stopped.toString()).containsPattern("stopped after 1 of \\d+ batches")
                .contains("partly restored").contains("restore --force");

        // the provider refuses to open it, and says why and what to do
        assertThatThrownBy(() -> TestStores.cluster(target).close()).isInstanceOf(UnfinishedRestoreException.class)
                .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("a restore into this store (started ")
                .hasMessageContaining("did not finish").hasMessageContaining("reliablestore restore --force --in " + backup.toAbsolutePath());
        CliProcess.Result status = CliProcess.inProcess("status", "--store", target);
        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.out()).contains("UNFINISHED RESTORE");
        CliProcess.Result verify = CliProcess.inProcess("verify", "--store", target);
        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(verify.out() + verify.err()).contains("did not finish");
        CliProcess.Result health = CliProcess.inProcess("health", "--store", target);
        assertThat(health.exitCode()).as(health.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(health.out()).contains("did not finish");
        CliProcess.Result partialBackup = CliProcess.inProcess("backup", "--store", target, "--out", dir.resolve("partial.rsbackup").toString());
        assertThat(partialBackup.exitCode()).as(partialBackup.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(dir.resolve("partial.rsbackup")).doesNotExist();
        CliProcess.Result withoutForce = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString());
        assertThat(withoutForce.exitCode()).as(withoutForce.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(withoutForce.err()).contains("did not finish").contains("--force");

        // 2: kill -9 part-way through a rerun (deleting what the first left, then writing): still marked
        CliProcess.Running second = pausedRestore(2, "restore", "--store", target, "--in", backup.toString(), "--force");
        second.process.destroyForcibly().waitFor();
        assertThatThrownBy(() -> TestStores.cluster(target).close()).isInstanceOf(UnfinishedRestoreException.class)
                .hasMessageContaining("did not finish");

        // 3: a rerun with --force completes, verifies and removes the mark; the provider opens the store again
        CliProcess.Result done = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString(), "--force");
        assertThat(done.exitCode()).as(done.toString()).isZero();
        assertThat(done.out()).contains(ENTITIES + " entities").contains("verified: the store's contents equal the backup");
        try (StoreFactory f = TestStores.cluster(target)) {
            assertThat(f.store("Note", JsonNode.class).count()).isEqualTo(ENTITIES);
        }
        assertThat(CliProcess.inProcess("status", "--store", target).out()).doesNotContain("UNFINISHED RESTORE");
        CliProcess.Result healthy = CliProcess.inProcess("health", "--store", target);
        assertThat(healthy.exitCode()).as(healthy.toString()).isZero();
        CliProcess.Result verified = CliProcess.inProcess("verify", "--store", target);
        assertThat(verified.exitCode()).as(verified.toString()).isZero();
    }
}
