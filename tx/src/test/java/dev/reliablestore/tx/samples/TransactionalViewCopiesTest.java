package dev.reliablestore.tx.samples;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.tx.samples.TransactionSamples.Account;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A transaction's view copies a buffered entity only to hand it out (AbstractTransactionBranch.copy):
 * counting, an existence check and a clear touch no codec, so a loop of "save, then count" stays
 * linear in codec work.
 */
class TransactionalViewCopiesTest {

    /** The default codec, counting the entities it encodes. */
    private static final class CountingCodec implements EntityCodec {
        final AtomicInteger encodes = new AtomicInteger();
        private final EntityCodec real = JacksonEntityCodec.defaults();

        @Override
        public String id() {
            return real.id();
        }

        @Override
        public boolean isJson() {
            return real.isJson();
        }

        @Override
        public <T> TypeCodec<T> forType(Class<T> type) {
            TypeCodec<T> typed = real.forType(type);
            return new TypeCodec<>() {
                @Override
                public Class<T> type() {
                    return type;
                }

                @Override
                public byte[] encode(T entity) throws CodecException {
                    encodes.incrementAndGet();
                    return typed.encode(entity);
                }

                @Override
                public T decode(byte[] bytes) throws CodecException {
                    return typed.decode(bytes);
                }
            };
        }
    }

    @Test
    void countExistsAndClearCopyNothingAndReadsCopyWhatTheyReturn() {
        CountingCodec codec = new CountingCodec();
        try (InMemoryParticipant bank = new InMemoryParticipant("bank", Persistence.openFactory("memory", java.util.Map.of()), codec)) {
            bank.store(Account.class).save("committed", new Account("committed", 1));
            TransactionBranch branch = bank.begin(TransactionId.of(1, "g", "b"));
            EntityStore<Account> view = branch.store(Account.class);
            for (int i = 0; i < 3; i++) {
                view.save("a" + i, new Account("a" + i, i));
            }
            assertThat(codec.encodes).as("one copy per save").hasValue(3);
            codec.encodes.set(0);

            assertThat(view.count()).isEqualTo(4);
            assertThat(view.exists("a1")).isTrue();
            assertThat(view.exists("absent")).isFalse();
            assertThat(codec.encodes).as("count and exists").hasValue(0);

            assertThat(view.getAll()).hasSize(4);
            assertThat(codec.encodes).as("getAll copies the three buffered entities it returns").hasValue(3);
            codec.encodes.set(0);

            assertThat(view.clear()).isEqualTo(4);
            assertThat(view.count()).isZero();
            assertThat(codec.encodes).as("clear").hasValue(0);
            branch.rollback();
        }
    }
}
