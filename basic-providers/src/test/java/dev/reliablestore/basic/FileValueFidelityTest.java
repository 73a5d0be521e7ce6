package dev.reliablestore.basic;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.ValueFidelityTck;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The value-fidelity kit against the file provider, reading back from a reopened directory too. */
class FileValueFidelityTest extends ValueFidelityTck {

    @TempDir
    Path dir;

    @Override
    protected StoreFactory openFactory() {
        return Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()));
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(openFactory());
    }
}
