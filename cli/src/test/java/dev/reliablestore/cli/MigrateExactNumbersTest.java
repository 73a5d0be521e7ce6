package dev.reliablestore.cli;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code migrate} copies numbers as they are stored (the sign of a zero, a decimal's scale), and its
 * resume check and verification tell such numbers apart: 12.3 is not 12.30, 0.0 is not -0.0.
 */
class MigrateExactNumbersTest {

    @TempDir
    Path dir;

    /** As an application would hold it: a double and a decimal with a scale. */
    record Point(double x, BigDecimal amount) {
    }

    /** A double whose shortest form has an exponent: stored as {@code 1.2345678E7}. */
    record Reading(double v) {
    }

    @SuppressWarnings("unchecked")
    private static final Class<Map<String, Object>> UNTYPED = (Class<Map<String, Object>>) (Class<?>) Map.class;

    private StoreFactory files() {
        return Persistence.openFactory("file", Map.of("directory", dir.resolve("files").toString()));
    }

    private void saveInSource(Point p) {
        try (StoreFactory f = files()) {
            f.store(Point.class).save("P1", p);
        }
    }

    private Point inTarget() {
        try (StoreFactory f = TestStores.cluster("embedded:" + dir.resolve("data"))) {
            return f.store(Point.class).get("P1").orElseThrow().value();
        }
    }

    private String[] migrate() {
        return new String[] {"migrate", "--from", "file:" + dir.resolve("files"), "--to", "embedded:" + dir.resolve("data")};
    }

    @Test
    void aNegativeZeroAndADecimalsScaleAreCopiedAsTheyAre() {
        saveInSource(new Point(-0.0, new BigDecimal("12.30")));

        CliProcess.Result r = CliProcess.inProcess(migrate());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Point: 1 entities: 1 copied, 0 updated, 0 already present").contains("verified Point");

        Point copied = inTarget();
        assertThat(Double.doubleToRawLongBits(copied.x())).as("sign bit of %s", copied.x()).isNegative();
        assertThat(copied.amount()).isEqualTo(new BigDecimal("12.30")); // equals: scale too
    }

    @Test
    void aRerunUpdatesATargetThatDiffersOnlyInScaleOrTheSignOfZero() {
        saveInSource(new Point(0.0, new BigDecimal("12.3")));
        CliProcess.Result first = CliProcess.inProcess(migrate());
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.out()).contains("1 copied");

        saveInSource(new Point(-0.0, new BigDecimal("12.30")));
        CliProcess.Result again = CliProcess.inProcess(migrate());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("Point: 1 entities: 0 copied, 1 updated, 0 already present").contains("verified Point");

        Point updated = inTarget();
        assertThat(Double.doubleToRawLongBits(updated.x())).as("sign bit of %s", updated.x()).isNegative();
        assertThat(updated.amount()).isEqualTo(new BigDecimal("12.30"));

        // and an unchanged source is skipped, as before
        CliProcess.Result third = CliProcess.inProcess(migrate());
        assertThat(third.exitCode()).as(third.toString()).isZero();
        assertThat(third.out()).contains("0 copied, 0 updated, 1 already present");
    }

    @Test
    void aSourceChangedOnlyInScaleAfterTheCopyDoesNotVerify() {
        saveInSource(new Point(-0.0, new BigDecimal("12.30")));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        MigrateCommand migrate = cli.getSubcommands().get("migrate").getCommand();
        // the file store admits one opening: the write goes through the command's own source store
        migrate.afterCopying = (type, sources) -> sources.apply("Point").save("P1",
                Json.MAPPER.createObjectNode().put("x", -0.0).put("amount", new BigDecimal("12.3")));
        int code = cli.execute(migrate());
        assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(out.toString()).contains("NOT VERIFIED Point").contains("P1 differs");
    }

    private Map<String, Object> untypedInSource() {
        try (StoreFactory f = files()) {
            return f.store("Reading", UNTYPED).get("R1").orElseThrow().value();
        }
    }

    private Map<String, Object> untypedInTarget() {
        try (StoreFactory f = TestStores.cluster("embedded:" + dir.resolve("data"))) {
            return f.store("Reading", UNTYPED).get("R1").orElseThrow().value();
        }
    }

    @Test
    void aDoubleWithAnExponentIsCopiedAsItsStoredTextSoUntypedReadersGetTheSameValue() {
        try (StoreFactory f = files()) {
            f.store(Reading.class).save("R1", new Reading(12345678.0));
        }
        Object inSource = untypedInSource().get("v");
        assertThat(inSource).isEqualTo(new BigDecimal("1.2345678E7")); // providers.md: an untyped float is a BigDecimal

        CliProcess.Result r = CliProcess.inProcess(migrate());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Reading: 1 entities: 1 copied, 0 updated, 0 already present").contains("verified Reading");

        Object inTarget = untypedInTarget().get("v");
        assertThat(inTarget).isInstanceOf(inSource.getClass()).isEqualTo(inSource);
        try (StoreFactory f = TestStores.cluster("embedded:" + dir.resolve("data"))) {
            assertThat(f.store(Reading.class).get("R1").orElseThrow().value().v()).isEqualTo(12345678.0);
        }

        String data = "embedded:" + dir.resolve("data");
        CliProcess.Result get = CliProcess.inProcess("get", "--store", data, "--type", "Reading", "--id", "R1", "--json");
        assertThat(get.exitCode()).as(get.toString()).isZero();
        assertThat(get.out()).contains("\"value\":{\"v\":1.2345678E7}");
        CliProcess.Result list = CliProcess.inProcess("list", "--store", data, "--type", "Reading");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.out()).contains("{\"v\":1.2345678E7}");

        CliProcess.Result again = CliProcess.inProcess(migrate());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("Reading: 1 entities: 0 copied, 0 updated, 1 already present").contains("verified Reading");
    }

    @Test
    void aRerunUpdatesATargetHoldingTheSameValueAsAnInteger() {
        try (StoreFactory f = files()) {
            f.store(Reading.class).save("R1", new Reading(12345678.0));
        }
        // what the tool's earlier copy wrote: the value's digits as an integer
        try (StoreFactory f = TestStores.cluster("embedded:" + dir.resolve("data"))) {
            f.store("Reading", UNTYPED).save("R1", Map.of("v", 12345678));
        }
        assertThat(untypedInTarget().get("v")).isEqualTo(12345678);

        CliProcess.Result r = CliProcess.inProcess(migrate());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Reading: 1 entities: 0 copied, 1 updated, 0 already present").contains("verified Reading");
        assertThat(untypedInTarget().get("v")).isInstanceOf(BigDecimal.class).isEqualTo(untypedInSource().get("v"));
    }
}
