"""Lambda's event source mapping for a DynamoDB stream, modelled as the Lambda guide describes it.

Used to count what a publisher's answers make Lambda do, batch after batch:

- the function gets batches of at most ``batch_size`` records, oldest first;
- an answer without ``batchItemFailures`` (or with an empty list) is a success;
- with ``ReportBatchItemFailures``, Lambda takes the lowest reported sequence number as
  the checkpoint: the records before it are done and the records from it on are retried
  (with ``BisectBatchOnFunctionError`` the batch is "bisected at the returned sequence
  number", which is the same set of records); a retry counts against
  ``MaximumRetryAttempts``;
- an invocation that raises is a complete failure: with bisect on, the batch is split in
  two halves, which does not count against the retry quota; otherwise it is retried whole;
- once a batch has used its retries, Lambda sends it to the on-failure destination (S3
  receives the whole invocation record) and moves past it.

(Lambda guide: "Configuring partial batch response with DynamoDB and Lambda" and
"Retain discarded batch records for a DynamoDB event source".) The model is a test
double of Lambda's behaviour, not of hotcore: the publisher under test is the real one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Record = Mapping[str, Any]


@dataclass
class EventSourceMapping:
    function: Callable[[dict[str, Any]], Mapping[str, Any] | None]
    batch_size: int = 100
    maximum_retry_attempts: int = 10
    bisect_batch_on_function_error: bool = True
    #: The batches Lambda gave up on, as the on-failure destination receives them.
    discarded: list[list[Record]] = field(default_factory=list)
    invocations: int = 0

    def run(self, records: Sequence[Record]) -> None:
        """Feed the stream's records through the function until the mapping is past them all."""
        for start in range(0, len(records), self.batch_size):
            self._process(list(records[start : start + self.batch_size]))

    def _process(self, batch: list[Record]) -> None:
        pending: deque[tuple[list[Record], int]] = deque([(batch, 0)])
        while pending:
            records, retries = pending.popleft()
            self.invocations += 1
            try:
                answer = self.function({"Records": list(records)})
            except Exception:
                if self.bisect_batch_on_function_error and len(records) > 1:
                    half = len(records) // 2
                    pending.appendleft((records[half:], retries))
                    pending.appendleft((records[:half], retries))
                elif retries < self.maximum_retry_attempts:
                    pending.appendleft((records, retries + 1))
                else:
                    self.discarded.append(records)
                continue
            failed = {
                str(item.get("itemIdentifier"))
                for item in (answer or {}).get("batchItemFailures") or []
            }
            if not failed:
                continue
            sequences = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
            reported = [i for i, sequence in enumerate(sequences) if sequence in failed]
            # An identifier that names no record of the batch fails the whole batch.
            remaining = records[min(reported) :] if len(reported) == len(failed) else records
            if retries < self.maximum_retry_attempts:
                pending.appendleft((remaining, retries + 1))
            else:
                self.discarded.append(remaining)
