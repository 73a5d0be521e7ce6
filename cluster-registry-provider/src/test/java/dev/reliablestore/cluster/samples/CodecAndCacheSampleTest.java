package dev.reliablestore.cluster.samples;

import dev.reliablestore.codec.EntityCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CodecAndCacheSampleTest {

    /** Stands for a user's binary codec: the sample only opens a store with it. */
    static final class MyBinaryCodec implements EntityCodec {
        @Override
        public String id() {
            return "my-binary";
        }

        @Override
        public boolean isJson() {
            return false;
        }

        @Override
        public <T> TypeCodec<T> forType(Class<T> type) {
            return new TypeCodec<>() {
                @Override
                public Class<T> type() {
                    return type;
                }

                @Override
                public byte[] encode(T entity) {
                    return entity.toString().getBytes(StandardCharsets.UTF_8);
                }

                @Override
                public T decode(byte[] bytes) {
                    throw new UnsupportedOperationException("never called by the sample");
                }
            };
        }
    }

    @TempDir
    Path dir;

    @Test
    void theSampleSharesTheImmutableInstanceAndAnotherCodecIsRefused() {
        assertThat(CodecAndCacheSample.run("embedded:" + dir.resolve("registry"), new MyBinaryCodec()))
                .containsExactly("shared: true", "refused: written with jackson-json, opened with my-binary");
    }

    @Test
    void theDocHoldsTheSampleVerbatim() throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/reliablestore/cluster/samples/CodecAndCacheSample.java"));
        String body = source.substring(source.indexOf("// sample-start\n") + "// sample-start\n".length(),
                source.indexOf("        // sample-end"));
        assertThat(Files.readString(Path.of("../docs/cluster-registry-provider.md"))).contains(body.replaceAll("(?m)^ {8}", ""));
    }
}
