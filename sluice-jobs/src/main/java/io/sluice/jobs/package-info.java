/** Durable job processing: submit, work, retry, dead letters, and recovery after a crash. */
package io.sluice.jobs;
