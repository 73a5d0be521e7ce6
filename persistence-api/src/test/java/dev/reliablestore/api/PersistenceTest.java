package dev.reliablestore.api;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PersistenceTest {

    record Thing(String name) {
    }

    @Test
    void unknownProviderNamesTheAvailableOnes() {
        assertThatThrownBy(() -> Persistence.open("no-such", Map.of(), Thing.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("\"no-such\"").hasMessageContaining("tck-reference");
        assertThatThrownBy(() -> Persistence.openFactory("no-such", Map.of())).isInstanceOf(ConfigurationException.class);
        assertThat(Persistence.providers()).containsKey("tck-reference");
    }

    @Test
    void theProvidersConfigurationErrorReachesTheCaller() {
        assertThatThrownBy(() -> Persistence.open("tck-reference", Map.of("tck.bogus", "1"), Thing.class))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("tck.bogus");
    }

    @Test
    void openGivesAStoreNamedAfterTheClassWhoseCloseClosesItsFactory() {
        EntityStore<Thing> store = Persistence.open("tck-reference", Map.of(), Thing.class);
        assertThat(store.typeName()).isEqualTo("Thing");
        assertThat(store.save("a", new Thing("x"))).isEqualTo(1);
        assertThat(store.get("a").orElseThrow().value()).isEqualTo(new Thing("x"));
        store.close();
        assertThatThrownBy(() -> store.get("a")).isInstanceOf(StoreClosedException.class);
        store.close();
    }

    @Test
    void owningStoreClosesTheStoreAndThenItsFactory() {
        AtomicBoolean factoryClosed = new AtomicBoolean();
        AtomicInteger factoryCloses = new AtomicInteger();
        RecordingStore inner = new RecordingStore("Thing", factoryClosed);
        StoreFactory factory = new StoreFactory() {
            @Override
            public String providerName() {
                return "recording";
            }

            @Override
            public <T> EntityStore<T> store(String typeName, Class<T> type) {
                throw new AssertionError("not used");
            }

            @Override
            public void close() {
                factoryCloses.incrementAndGet();
                factoryClosed.set(true);
            }
        };
        OwningEntityStore<String> owning = new OwningEntityStore<>(inner, factory);
        owning.save("k", "v");
        assertThat(owning.unwrap(RecordingStore.class)).isSameAs(inner);
        owning.close();
        assertThat(inner.closes).isEqualTo(1);
        assertThat(factoryCloses.get()).isEqualTo(1);
        assertThat(inner.io).containsExactly("save k");
    }
}
