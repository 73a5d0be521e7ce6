package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cli.InProcessCli.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.reliablestore.cli.InProcessCli.run;
import static org.assertj.core.api.Assertions.assertThat;

/** What the tool reads from the user: refused whole when it is not what it claims, never quoted back, and keys read as applications read them. */
class EntityInputTest {

    @TempDir
    Path dir;

    private String store() {
        return "embedded:" + dir.resolve("store");
    }

    @Test
    void standardInputThatIsNotUtf8IsRefusedAndNothingIsSaved() {
        assertThat(run("put", "--store", store(), "--type", "Customer", "--id", "C0", "{\"name\":\"Bo\"}").exitCode()).isZero();
        InputStream before = System.in;
        try {
            System.setIn(new ByteArrayInputStream("{\"name\":\"café\"}".getBytes(StandardCharsets.ISO_8859_1)));
            Run put = run("put", "--store", store(), "--type", "Customer", "--id", "C1", "--file", "-");
            assertThat(put.exitCode()).as(put.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(put.err()).contains("not UTF-8");
        } finally {
            System.setIn(before);
        }
        assertThat(run("get", "--store", store(), "--type", "Customer", "--id", "C1").exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
    }

    @Test
    void malformedJsonIsRefusedWithoutQuotingTheInput() {
        for (String text : new String[] {"{\"password\": hunter2secret}", "{x-hunter2secret: 1}"}) {
            Run put = run("put", "--store", store(), "--type", "Customer", "--id", "C1", text);
            assertThat(put.exitCode()).as(put.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(put.err()).startsWith("error: malformed JSON for Customer/C1 at line 1, column").doesNotContain("hunter2")
                    .doesNotContain("'x'");
        }
    }

    /** A duration longer than the commands can count (they wait in nanoseconds) is bad usage, refused before anything runs. */
    @Test
    void aDurationTooLongForTheCommandsIsBadUsage() {
        Run watch = run("watch", "--store", store(), "--type", "Customer", "--timeout", "200000d");
        assertThat(watch.exitCode()).as(watch.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(watch.err()).contains("200000d").contains("too long a duration").contains("36500d");
    }

    /** --passphrase-file reads its file as an application's passphrase=file:PATH does: trailing line breaks dropped, spaces kept. */
    @Test
    void aPassphraseFileIsReadAsTheFileSecretFormReadsIt() throws Exception {
        Path file = Files.writeString(dir.resolve("passphrase"), " two words \n");
        try (StoreFactory app = TestStores.cluster(store(), " two words ")) {
            app.store("Customer", Map.class).save("C1", Map.of("name", "Ann"));
        }
        Run get = run("get", "--store", store(), "--type", "Customer", "--id", "C1", "--passphrase-file", file.toString());
        assertThat(get.exitCode()).as(get.toString()).isEqualTo(ExitCodes.OK);
        assertThat(get.out()).contains("Ann");
    }
}
