package dev.reliablestore.basic;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.EntityStoreTck;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** The provider test kit against the file provider, on a real directory with real fsyncs. */
class FileProviderTckTest extends EntityStoreTck {

    private static final long LIMIT = 256 * 1024;

    @TempDir
    Path dir;

    private Map<String, String> config() {
        return Map.of(FileProvider.DIRECTORY, dir.toString(), FileProvider.MAX_ENTITY_SIZE, Long.toString(LIMIT));
    }

    @Override
    protected int incrementsPerThread() {
        return 200; // every attempt is fsync'ed: 1,600 increments over 8 threads still race on every one
    }

    @Override
    protected StoreFactory openFactory() {
        return Persistence.openFactory("file", config());
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(Persistence.openFactory("file", config()));
    }

    @Override
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(LIMIT);
    }
}
