package dev.reliablestore.spring.data;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessApiUsageException;
import org.springframework.dao.NonTransientDataAccessResourceException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.dao.support.PersistenceExceptionTranslator;
import org.springframework.data.keyvalue.core.KeyValuePersistenceExceptionTranslator;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.api.PersistenceException;

/**
 * ReliableStore's exceptions as Spring's {@link DataAccessException}s, each keeping the original as
 * its cause: a version conflict is an {@link OptimisticLockingFailureException}, a retryable failure
 * a {@link TransientDataAccessResourceException}; anything else goes to Spring Data KeyValue's own
 * translator.
 */
final class StoreExceptionTranslator implements PersistenceExceptionTranslator {

    private final PersistenceExceptionTranslator others = new KeyValuePersistenceExceptionTranslator();

    @Override
    public DataAccessException translateExceptionIfPossible(RuntimeException e) {
        if (!(e instanceof PersistenceException p)) {
            return others.translateExceptionIfPossible(e);
        }
        String message = p.getMessage();
        if (p instanceof ConcurrencyConflictException) {
            return new OptimisticLockingFailureException(message, p);
        }
        if (p.isRetryable()) {
            return new TransientDataAccessResourceException(message, p);
        }
        if (p instanceof InvalidIdException || p instanceof EntityTooLargeException || p instanceof ConfigurationException) {
            return new InvalidDataAccessApiUsageException(message, p);
        }
        return new NonTransientDataAccessResourceException(message, p);
    }
}
