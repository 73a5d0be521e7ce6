package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * migrate of 10,000 entities from the file provider, interrupted twice (SIGTERM, then kill -9: separate processes) and
 * resumed; the rest in this JVM.
 */
class MigrateProcessTest {

    static final int ENTITIES = 4_000;
    static final Pattern PROGRESS = Pattern.compile("migrate: (\\d+)/" + (ENTITIES + 3) + " \\(\\d+%\\), \\d+/s(, ETA \\S+|, took \\S+)");

    @TempDir
    Path dir;

    CliProcess cli;

    @BeforeEach
    void start() {
        cli = new CliProcess(dir);
    }

    /** {@code count} customers (fsync'ed one by one by the file provider) and 3 orders. */
    private void seed(int count) {
        try (StoreFactory files = Persistence.openFactory("file", Map.of("directory", dir.resolve("files").toString()))) {
            EntityStore<JsonNode> customers = files.store("Customer", JsonNode.class);
            for (int from = 0; from < count; from += 2000) {
                Map<String, JsonNode> batch = new LinkedHashMap<>();
                for (int i = from; i < Math.min(count, from + 2000); i++) {
                    batch.put(String.format("CUST-%05d", i), Json.MAPPER.createObjectNode().put("name", "Customer " + i)
                            .put("tier", i % 3 == 0 ? "Premium" : "Standard").put("balance", i * 1.25)
                            .set("tags", Json.MAPPER.createArrayNode().add("t" + i % 7)));
                }
                customers.saveBatch(batch);
            }
            EntityStore<JsonNode> orders = files.store("Order", JsonNode.class);
            for (int i = 0; i < 3; i++) {
                orders.save("ORD-" + i, Json.MAPPER.createObjectNode().put("total", i * 10));
            }
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        cli.close();
    }

    @Test
    void interruptedMigrationResumesWithoutDuplicatesAndVerifies() throws Exception {
        seed(ENTITIES);
        String[] migrate = {"migrate", "--from", "file:./files", "--to", "embedded:./data", "--max-rate", "1000",
                "--progress-interval", "100ms"};

        // 1: SIGTERM (as Ctrl-C would) — stops after the batch in flight and says how to resume
        CliProcess.Running first = cli.start(migrate);
        await().atMost(Duration.ofSeconds(60)).until(() -> done(first.err()) >= 1000);
        first.process.toHandle().destroy();
        CliProcess.Result stopped = first.await(60);
        assertThat(stopped.exitCode()).as(stopped.toString()).isEqualTo(143);
        assertThat(stopped.err()).contains("run the same command again to resume");
        long afterFirst = count();
        assertThat(afterFirst).isBetween(1000L, (long) ENTITIES - 1);

        // 2: kill -9 half-way, in the middle of whatever it was doing
        CliProcess.Running second = cli.start(migrate);
        await().atMost(Duration.ofSeconds(60)).until(() -> done(second.err()) >= ENTITIES / 2);
        second.process.destroyForcibly().waitFor();
        long afterKill = count();
        assertThat(afterKill).isBetween(afterFirst, (long) ENTITIES - 1);

        // 3: the same command (in this JVM, so with absolute paths: what it does is no different) completes, skipping what is
        // there, and verifies counts and hashes
        String from = "file:" + dir.resolve("files");
        String to = "embedded:" + dir.resolve("data");
        CliProcess.Result resumed = CliProcess.inProcess("migrate", "--from", from, "--to", to);
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out())
                .contains("migrating " + (ENTITIES + 3) + " entities of 2 type(s) from file:")
                .contains("Customer: " + ENTITIES + " entities: " + (ENTITIES - afterKill) + " copied, 0 updated, " + afterKill + " already present")
                .containsPattern("verified Customer: " + ENTITIES + " entities, sha256 [0-9a-f]{64} on both sides")
                .containsPattern("verified Order: 3 entities, sha256 [0-9a-f]{64} on both sides");
        // progress as plain lines for a pipe: no carriage returns, every line well-formed
        assertThat(resumed.err()).doesNotContain("\r");
        assertThat(resumed.err().lines().filter(l -> l.startsWith("migrate:"))).isNotEmpty().allMatch(l -> PROGRESS.matcher(l).matches());

        // nothing duplicated or written twice: every id once, every entity at version 1, contents equal to the source
        JsonNode listed = Json.MAPPER.readTree(CliProcess.inProcess("list", "--store", to, "--type", "Customer", "--json").out());
        assertThat(listed.size()).isEqualTo(ENTITIES);
        for (int i = 0; i < ENTITIES; i++) {
            JsonNode e = listed.get(i);
            assertThat(e.get("id").asText()).isEqualTo(String.format("CUST-%05d", i));
            assertThat(e.get("version").asLong()).as(e.get("id").asText()).isEqualTo(1);
            assertThat(e.get("value").get("name").asText()).isEqualTo("Customer " + i);
        }

        // running it again changes nothing and still verifies
        CliProcess.Result again = CliProcess.inProcess("migrate", "--from", from, "--to", to, "--json");
        assertThat(again.exitCode()).isZero();
        JsonNode r = Json.MAPPER.readTree(again.out());
        assertThat(r.get("verified").asBoolean()).isTrue();
        assertThat(r.get("types").get("Customer").get("skipped").asLong()).isEqualTo(ENTITIES);
        assertThat(r.get("types").get("Customer").get("sourceSha256")).isEqualTo(r.get("types").get("Customer").get("targetSha256"));
    }

    @Test
    void aTargetHoldingOtherEntitiesDoesNotVerify() {
        seed(10);
        String from = "file:" + dir.resolve("files");
        String to = "embedded:" + dir.resolve("data");
        assertThat(CliProcess.inProcess("put", "--store", to, "--type", "Order", "--id", "ORD-999", "{\"total\":1}").exitCode()).isZero();
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", from, "--to", to, "--type", "Order");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(r.out()).contains("NOT VERIFIED Order: source 3 entities").contains("ORD-999 is only in the target");
        CliProcess.Result unknown = CliProcess.inProcess("migrate", "--from", from, "--to", to, "--type", "Invoice");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("type Invoice does not exist in the source").hasLineCount(1);
    }

    @Test
    void aSourceWrittenAfterTheCopyDoesNotVerify() {
        seed(10);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        MigrateCommand migrate = cli.getSubcommands().get("migrate").getCommand();
        // in this process (the file store's directory lock admits one opening): the write lands after every id was copied
        migrate.afterCopying = (type, sources) -> sources.apply("Customer").save("CUST-00003",
                Json.MAPPER.createObjectNode().put("name", "changed meanwhile"));
        int code = cli.execute("migrate", "--from", "file:" + dir.resolve("files"), "--to", "embedded:" + dir.resolve("data"),
                "--type", "Customer");
        assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(out.toString()).contains("Customer: 10 entities: 10 copied").contains("NOT VERIFIED Customer: source 10 entities")
                .contains("CUST-00003 differs").doesNotContain("verified Customer");
    }

    /** Every type is verified after every copy: a write to a type copied first, made while another is copied, shows. */
    @Test
    void aTypeWrittenWhileALaterTypeIsCopiedDoesNotVerify() {
        seed(10);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        MigrateCommand migrate = cli.getSubcommands().get("migrate").getCommand();
        migrate.afterCopying = (type, sources) -> {
            if (type.equals("Order")) {
                sources.apply("Customer").save("CUST-00003", Json.MAPPER.createObjectNode().put("name", "changed meanwhile"));
            }
        };
        int code = cli.execute("migrate", "--from", "file:" + dir.resolve("files"), "--to", "embedded:" + dir.resolve("data"));
        assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(out.toString()).contains("NOT VERIFIED Customer").contains("CUST-00003 differs");
    }

    /** Verification reads both sides once every copy is done: a failure there still says what was saved, and that it stays. */
    @Test
    void aTargetThatCannotBeReadWhileVerifyingSaysWhatWasSaved() {
        seed(10);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        MigrateCommand migrate = cli.getSubcommands().get("migrate").getCommand();
        Path target = dir.resolve("copied");
        // a file store reads its documents from disk: one damaged after the copy fails the target's read in the verification
        migrate.afterCopying = (type, sources) -> damage(target, "\"CUST-00003\"");
        int code = cli.execute("migrate", "--from", "file:" + dir.resolve("files"), "--to", "file:" + target, "--type", "Customer");
        assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("after saving 10 entities in the target, which stay")
                .contains("Customer").contains("damaged").contains("run the same command again");
        assertThat(out.toString()).doesNotContain("verified Customer").doesNotContain("NOT VERIFIED");
    }

    /**
     * A stop (what SIGTERM's hook asks) while {@code --max-rate} holds the copy back ends the pause: the
     * signal's hook waits 30 s at most, and a pause is as long as a batch takes at that rate.
     */
    @Test
    void aStopEndsTheMaxRatePause() throws Exception {
        seed(50);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        MigrateCommand migrate = cli.getSubcommands().get("migrate").getCommand();
        java.util.concurrent.ExecutorService runner = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            // 25 entities a batch at 1/s: 25 s of pause after the first batch
            java.util.concurrent.Future<Integer> code = runner.submit(() -> cli.execute("migrate", "--from", "file:" + dir.resolve("files"),
                    "--to", "embedded:" + dir.resolve("data"), "--type", "Customer", "--batch-size", "25", "--max-rate", "1",
                    "--progress-interval", "1ms"));
            await().atMost(Duration.ofSeconds(20)).until(() -> err.toString().contains("migrate: 25/50"));
            migrate.requestStop();
            assertThat(code.get(5, java.util.concurrent.TimeUnit.SECONDS)).as(out + "\n" + err).isEqualTo(ExitCodes.INTERRUPTED);
            assertThat(err.toString()).contains("interrupted after 25/50 entities");
        } finally {
            runner.shutdownNow(); // without the fix, still pausing: interrupted
            assertThat(runner.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Overwrites the one document under {@code root} that holds {@code marker} with bytes that are no document. */
    private static void damage(Path root, String marker) {
        try (var files = java.nio.file.Files.walk(root)) {
            var holding = files.filter(java.nio.file.Files::isRegularFile).filter(f -> {
                try {
                    return new String(java.nio.file.Files.readAllBytes(f), java.nio.charset.StandardCharsets.UTF_8).contains(marker);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
            assertThat(holding).hasSize(1);
            java.nio.file.Files.writeString(holding.get(0), "{");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private long count() {
        CliProcess.Result c = CliProcess.inProcess("count", "--store", "embedded:" + dir.resolve("data"), "--type", "Customer", "--json");
        assertThat(c.exitCode()).as(c.toString()).isZero();
        try {
            return Json.MAPPER.readTree(c.out()).get("Customer").asLong();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long done(String err) {
        long best = -1;
        Matcher m = Pattern.compile("migrate: (\\d+)/").matcher(err);
        while (m.find()) {
            best = Math.max(best, Long.parseLong(m.group(1)));
        }
        return best;
    }
}
