# Shared steps of the cnn fine-tune recipes (sourced by finetune17.sh and edge17.sh):
#   ship_model OUT           copy OUT/cnn's model files into plugins/models/cnn/
#   finetune_cnn STORE OUT   fine-tune the shipped cnn on STORE into OUT/cnn (resumes from
#                            its checkpoint), then evaluate it on the held-out families
# Both read TIME_LIMIT, THREADS, LR and SEED from the calling script, and ARCH (KEY=VALUE,
# optional: an architecture change on top of the shipped one, e.g. anchor=top).

ship_model() {
  cp "$1/cnn/config.json" "$1/cnn/weights.pt" "$1/cnn/learning_curve.png" "$1/cnn/eval_families.json" \
    plugins/models/cnn/
  echo "shipped: plugins/models/cnn/"
}

finetune_cnn() {
  local store=$1 out=$2 resume=()
  [ -f "$out/cnn/checkpoint.pt" ] && resume=(--resume)
  invtoolkit train surrogate "$store" -o "$out/cnn" --init plugins/models/cnn --epochs 100 \
    --time-limit "$TIME_LIMIT" --batch-size 256 --lr "$LR" --patience 8 --seed "$SEED" --threads "$THREADS" \
    --no-progress ${ARCH:+--arch "$ARCH"} "${resume[@]}"
  python training/eval_families.py --model "$out/cnn" --n 1000 --seed 20261717 --threads "$THREADS" \
    --json "$out/cnn/eval_families.json"
}
