package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** put, get, delete, list, count as separate processes on embedded and file stores: output, JSON and exit codes. */
class EntityCommandsProcessTest {

    @TempDir
    Path dir;

    CliProcess cli;

    @BeforeEach
    void start() {
        cli = new CliProcess(dir, Map.of("RS_PASS", "correct horse battery staple"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        cli.close();
    }

    @Test
    void crudOnAnEncryptedEmbeddedStore() throws Exception {
        String[] store = {"--store", "embedded:./data", "--passphrase-env", "RS_PASS"};
        CliProcess.Result put = cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-001",
                "{\"name\":\"Acme\",\"tier\":\"Premium\",\"n\":1.50}"}, store));
        assertThat(put.exitCode()).as(put.toString()).isZero();
        assertThat(put.out()).isEqualTo("saved Customer/CUST-001 version 1" + System.lineSeparator());

        Files.writeString(dir.resolve("c2.json"), "{\"name\":\"Globex\",\"tags\":[\"a\",\"b\"]}");
        CliProcess.Result put2 = cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-002", "--file", "c2.json", "--json"}, store));
        assertThat(put2.exitCode()).as(put2.toString()).isZero();
        assertThat(Json.MAPPER.readTree(put2.out())).isEqualTo(Json.MAPPER.readTree("{\"type\":\"Customer\",\"id\":\"CUST-002\",\"version\":1}"));

        CliProcess.Result update = cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-001", "--expect-version", "1",
                "{\"name\":\"Acme\",\"tier\":\"Enterprise\"}"}, store));
        assertThat(update.out()).contains("saved Customer/CUST-001 version 2");

        CliProcess.Result stale = cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-001", "--expect-version", "1",
                "{\"name\":\"stale\"}"}, store));
        assertThat(stale.exitCode()).as(stale.toString()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(stale.err()).startsWith("error: version conflict on Customer/CUST-001").hasLineCount(1);

        CliProcess.Result get = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "CUST-001", "--json"}, store));
        assertThat(get.exitCode()).as(get.toString()).isZero();
        JsonNode got = Json.MAPPER.readTree(get.out());
        assertThat(got.get("version").asLong()).isEqualTo(2);
        assertThat(got.get("value").get("tier").asText()).isEqualTo("Enterprise");

        CliProcess.Result human = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "CUST-002"}, store));
        assertThat(human.out()).startsWith("Customer/CUST-002 version 1").contains("\"Globex\"");

        CliProcess.Result list = cli.run(cat(new String[] {"list", "--type", "Customer"}, store));
        assertThat(list.out().lines()).hasSize(2);
        assertThat(list.out().lines().findFirst().orElseThrow()).startsWith("CUST-001\t2\t{");
        CliProcess.Result listJson = cli.run(cat(new String[] {"list", "--type", "Customer", "--ids-only", "--json"}, store));
        assertThat(Json.MAPPER.readTree(listJson.out())).isEqualTo(Json.MAPPER.readTree("[\"CUST-001\",\"CUST-002\"]"));
        CliProcess.Result types = cli.run(cat(new String[] {"list"}, store));
        assertThat(types.out()).isEqualTo("Customer" + System.lineSeparator());

        cli.run(cat(new String[] {"put", "--type", "Order", "--id", "O-1", "{\"total\":12}"}, store));
        CliProcess.Result count = cli.run(cat(new String[] {"count", "--json"}, store));
        assertThat(Json.MAPPER.readTree(count.out())).isEqualTo(Json.MAPPER.readTree("{\"Customer\":2,\"Order\":1}"));
        assertThat(cli.run(cat(new String[] {"count"}, store)).out()).contains("Customer\t2").contains("total\t3");

        CliProcess.Result wrongVersion = cli.run(cat(new String[] {"delete", "--type", "Customer", "--id", "CUST-001", "--expect-version", "1"}, store));
        assertThat(wrongVersion.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        CliProcess.Result delete = cli.run(cat(new String[] {"delete", "--type", "Customer", "--id", "CUST-001"}, store));
        assertThat(delete.exitCode()).as(delete.toString()).isZero();
        assertThat(delete.out()).contains("deleted Customer/CUST-001");
        CliProcess.Result again = cli.run(cat(new String[] {"delete", "--type", "Customer", "--id", "CUST-001"}, store));
        assertThat(again.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        CliProcess.Result missing = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "CUST-001"}, store));
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(missing.err()).startsWith("error: Customer/CUST-001 not found").hasLineCount(1);
        assertThat(missing.out()).isEmpty();

        // the values are encrypted at rest: without the key they cannot be read, and the error is one line
        CliProcess.Result noKey = cli.run("get", "--store", "embedded:./data", "--type", "Customer", "--id", "CUST-002");
        assertThat(noKey.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(noKey.err()).contains("encrypted").hasLineCount(1);
        CliProcess.Result wrongKey = cli.runWith(Map.of("OTHER", "not the passphrase"), "get", "--store", "embedded:./data",
                "--passphrase-env", "OTHER", "--type", "Customer", "--id", "CUST-002");
        assertThat(wrongKey.exitCode()).as(wrongKey.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(wrongKey.err()).startsWith("error: ").hasLineCount(1).doesNotContain("not the passphrase");
        // and nothing in the store's files shows the plaintext
        try (var files = Files.walk(dir.resolve("data"))) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                assertThat(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("Globex");
            }
        }
    }

    @Test
    void fileStoresWorkToo() throws Exception {
        String[] store = {"--store", "file:./files"};
        assertThat(cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "Big-Co", "{\"name\":\"Big\"}"}, store)).exitCode()).isZero();
        CliProcess.Result get = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "Big-Co", "--json"}, store));
        assertThat(Json.MAPPER.readTree(get.out()).get("value")).isEqualTo(Json.MAPPER.readTree("{\"name\":\"Big\"}"));
        assertThat(cli.run(cat(new String[] {"list"}, store)).out()).isEqualTo("Customer" + System.lineSeparator());
        assertThat(cli.run(cat(new String[] {"count", "--type", "Customer", "--json"}, store)).out()).contains("{\"Customer\":1}");
        CliProcess.Result status = cli.run(cat(new String[] {"status", "--json"}, store));
        assertThat(Json.MAPPER.readTree(status.out()).get("types")).isEqualTo(Json.MAPPER.readTree("{\"Customer\":1}"));
    }

    @Test
    void badInputIsOneLineNonZeroAndChangesNothing() throws Exception {
        String[] store = {"--store", "embedded:./data"};
        assertThat(cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "C1", "{\"v\":1}"}, store)).exitCode()).isZero();

        CliProcess.Result malformed = cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "C1", "{\"v\":2"}, store));
        assertThat(malformed.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(malformed.err()).startsWith("error: malformed JSON for Customer/C1 at line 1, column").hasLineCount(1);

        CliProcess.Result scheme = cli.run("put", "--store", "mongodb://x/y", "--type", "Customer", "--id", "C1", "{}");
        assertThat(scheme.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(scheme.err()).isEqualTo("error: unknown store scheme \"mongodb\" in \"mongodb://x/y\"; use embedded:<dir>, "
                + "zookeeper://host:port[,host:port…]/<chroot>, clusapi://<cluster> or file:<dir>" + System.lineSeparator());

        CliProcess.Result badId = cli.run(cat(new String[] {"put", "--type", "Customer", "--id", "a/b", "{}"}, store));
        assertThat(badId.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badId.err()).contains("a/b").hasLineCount(1);

        CliProcess.Result unknownOption = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "C1", "--colour"}, store));
        assertThat(unknownOption.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknownOption.err()).contains("--colour").hasLineCount(1);

        CliProcess.Result missingEnv = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "C1", "--passphrase-env", "NOPE_NOT_SET"}, store));
        assertThat(missingEnv.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missingEnv.err()).contains("NOPE_NOT_SET").hasLineCount(1);

        CliProcess.Result noStore = cli.run("get", "--store", "embedded:./nowhere", "--type", "Customer", "--id", "C1");
        assertThat(noStore.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(noStore.err()).contains("does not exist").hasLineCount(1);
        assertThat(dir.resolve("nowhere")).doesNotExist();

        // nothing changed: still version 1 with the first value
        CliProcess.Result get = cli.run(cat(new String[] {"get", "--type", "Customer", "--id", "C1", "--json"}, store));
        assertThat(Json.MAPPER.readTree(get.out()).get("version").asLong()).isEqualTo(1);
        assertThat(Json.MAPPER.readTree(get.out()).get("value")).isEqualTo(Json.MAPPER.readTree("{\"v\":1}"));
        assertThat(cli.run(cat(new String[] {"count", "--json"}, store)).out()).contains("{\"Customer\":1}");
    }

    static String[] cat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
