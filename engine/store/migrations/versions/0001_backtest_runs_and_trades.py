"""backtest runs and trades

Revision ID: 0001
Revises: (none)
The tables `create_all` made before migrations existed (a database from then
is stamped at this revision by `engine.store.migrate`).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backtest_runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('strategy_name', sa.String(length=200), nullable=False),
    sa.Column('strategy_hash', sa.String(length=64), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('symbols', sa.JSON(), nullable=False),
    sa.Column('data_start_ms', sa.BigInteger(), nullable=True),
    sa.Column('data_end_ms', sa.BigInteger(), nullable=True),
    sa.Column('starting_balance', sa.Double(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('n_trades', sa.Integer(), nullable=False),
    sa.Column('total_return', sa.Double(), nullable=True),
    sa.Column('superbot_version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('backtest_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backtest_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_backtest_runs_strategy_hash'), ['strategy_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_backtest_runs_strategy_name'), ['strategy_name'], unique=False)

    op.create_table('backtest_trades',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('side', sa.SmallInteger(), nullable=False),
    sa.Column('entry_index', sa.BigInteger(), nullable=False),
    sa.Column('exit_index', sa.BigInteger(), nullable=False),
    sa.Column('entry_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('exit_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('entry_price', sa.Double(), nullable=False),
    sa.Column('exit_price', sa.Double(), nullable=False),
    sa.Column('amount', sa.Double(), nullable=False),
    sa.Column('stake', sa.Double(), nullable=False),
    sa.Column('profit_ratio', sa.Double(), nullable=False),
    sa.Column('profit_abs', sa.Double(), nullable=False),
    sa.Column('fees', sa.Double(), nullable=False),
    sa.Column('exit_reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['backtest_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'seq')
    )


def downgrade() -> None:
    op.drop_table('backtest_trades')
    with op.batch_alter_table('backtest_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backtest_runs_strategy_name'))
        batch_op.drop_index(batch_op.f('ix_backtest_runs_strategy_hash'))
        batch_op.drop_index(batch_op.f('ix_backtest_runs_created_at'))

    op.drop_table('backtest_runs')
