#!/bin/sh
# Ghost that records when it starts and ends (one line each, appended atomically) and sleeps $2 seconds.
echo "start $SPARKS_TASK_ID $(date +%s%N)" >> "$1"
sleep "${2:-0.01}"
echo "end $SPARKS_TASK_ID $(date +%s%N)" >> "$1"
